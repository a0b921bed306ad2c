// The inference page: draw or upload a digit, see the prediction and label it; model versions with their live accuracy,
// pin and follow; the confusion matrix of labelled outcomes; live counts.
import { $, api, fmt, operatorApi } from '/common/page.js';

const pct = (v) => (typeof v === 'number' ? (v * 100).toFixed(2) + '%' : '–');
const escape = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'})[c]);

// ---- the prediction panel ----

const probChart = new Chart($('prob-chart'), {
  type: 'bar',
  data: {labels: [...Array(10).keys()].map(String), datasets: [{label: 'probability', data: Array(10).fill(0)}]},
  options: {
    maintainAspectRatio: false,
    animation: {duration: 150},
    plugins: {legend: {display: false}},
    scales: {y: {min: 0, max: 1, title: {display: true, text: 'probability'}}, x: {title: {display: true, text: 'digit'}}},
  },
});

function showPrediction(p, source, generation) {
  showFeedback(p);
  const digit = $('digit');
  digit.textContent = p.digit;
  digit.dataset.generation = generation ?? '';
  $('confidence').textContent = `${(p.confidence * 100).toFixed(1)}% sure`;
  $('pred-source').textContent = source;
  $('pred-version').textContent = `model v${p.modelVersion}`;
  const dataset = probChart.data.datasets[0];
  dataset.data = p.probabilities;
  dataset.backgroundColor = p.probabilities.map((_, i) => (i === p.digit ? '#2f6fde' : '#b8c4d9'));
  probChart.update();
}

function resetPrediction(message) {
  showFeedback(null);
  $('digit').textContent = '–';
  $('digit').dataset.generation = '';
  $('confidence').textContent = '';
  $('pred-source').textContent = message;
  $('pred-version').textContent = '';
  probChart.data.datasets[0].data = Array(10).fill(0);
  probChart.update();
}

// ---- drawing: pointer events (mouse, pen, touch), predicted as you draw ----

const pad = $('pad');
const ctx = pad.getContext('2d');
let drawing = false;
let inked = false;
let last = null;
let generation = 0;
let clearedAt = 0;
let inFlight = false;
let pending = false;

function clearPad() {
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, pad.width, pad.height);
  inked = false;
  generation++;
  clearedAt = generation;
  pad.dataset.generation = generation;
  resetPrediction('Draw a digit or upload an image.');
}

function point(e) {
  const r = pad.getBoundingClientRect();
  return {x: ((e.clientX - r.left) * pad.width) / r.width, y: ((e.clientY - r.top) * pad.height) / r.height};
}

function stroke(from, to) {
  // White on black with a pen about as wide, relative to the digit, as MNIST's strokes.
  ctx.strokeStyle = '#fff';
  ctx.fillStyle = '#fff';
  ctx.lineWidth = 18;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.beginPath();
  if (from.x === to.x && from.y === to.y) {
    ctx.arc(to.x, to.y, ctx.lineWidth / 2, 0, 2 * Math.PI);
    ctx.fill();
  } else {
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
  }
  inked = true;
  generation++;
  pad.dataset.generation = generation;
  predictDrawing();
}

pad.addEventListener('pointerdown', (e) => {
  e.preventDefault();
  pad.setPointerCapture(e.pointerId);
  drawing = true;
  last = point(e);
  stroke(last, last);
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  const p = point(e);
  stroke(last, p);
  last = p;
});
for (const type of ['pointerup', 'pointercancel']) {
  pad.addEventListener(type, () => {
    drawing = false;
  });
}

/** At most one request in flight; the newest drawing is sent when it returns. */
async function predictDrawing() {
  if (inFlight) {
    pending = true;
    return;
  }
  if (!inked) return;
  inFlight = true;
  const sent = generation;
  try {
    const p = await api('/api/predict', {
      method: 'POST',
      headers: {'Content-Type': 'application/json'},
      // No id: the service gives each image its own, which a label then names.
      body: JSON.stringify({png: pad.toDataURL('image/png')}),
    });
    $('predict-error').textContent = '';
    if (sent > clearedAt) showPrediction(p, 'your drawing', sent); // not for a drawing cleared since
  } catch (e) {
    $('predict-error').textContent = e.message;
  } finally {
    inFlight = false;
    if (pending) {
      pending = false;
      predictDrawing();
    }
  }
}

$('clear').addEventListener('click', clearPad);

// ---- labels: the user confirms the prediction shown or clicks the right digit ----

/** The prediction the buttons label (its id and digit), the digit recorded for it (null: none yet), a label on its way. */
let labelled = {id: null, predicted: null, digit: null, sending: false};

function showFeedback(p) {
  labelled = {id: p ? p.id : null, predicted: p ? p.digit : null, digit: null, sending: false};
  $('feedback').hidden = !p;
  $('feedback').dataset.id = p ? p.id : '';
  $('label-right').textContent = p ? `Right: it is ${p.digit}` : 'Right';
  $('label-status').textContent = '';
  $('label-error').textContent = '';
  renderLabelButtons();
}

/**
 * While a label is on its way every button waits; once one is recorded only its digit is disabled: another click
 * changes the label, and the newest label of an image is the one that counts.
 */
function renderLabelButtons() {
  const is = (d) => labelled.digit === d;
  $('label-right').disabled = labelled.sending || is(labelled.predicted);
  $('label-right').setAttribute('aria-pressed', String(is(labelled.predicted)));
  for (const b of document.querySelectorAll('#label-digits button')) {
    const d = Number(b.dataset.label);
    b.disabled = labelled.sending || is(d);
    b.setAttribute('aria-pressed', String(is(d)));
  }
}

async function sendLabel(digit) {
  const id = labelled.id;
  if (id == null || labelled.sending) return;
  labelled.sending = true;
  renderLabelButtons();
  $('label-error').textContent = '';
  try {
    const l = await api('/api/feedback?source=page', {
      method: 'POST',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({id, digit}),
    });
    if (labelled.id !== id) return; // a newer prediction took the buttons meanwhile
    labelled.digit = l.digit;
    $('label-status').textContent = `Label recorded: ${l.digit} (source ${l.source}).` +
      ' Another digit changes it; the newest label counts.';
  } catch (e) {
    if (labelled.id !== id) return;
    $('label-error').textContent = `Label not recorded: ${e.message}`;
  } finally {
    if (labelled.id === id) {
      labelled.sending = false;
      renderLabelButtons();
    }
  }
}

$('label-right').addEventListener('click', () => sendLabel(labelled.predicted));
$('label-digits').addEventListener('click', (e) => {
  const button = e.target.closest('button[data-label]');
  if (button) sendLabel(Number(button.dataset.label));
});

// ---- upload ----

$('upload').addEventListener('change', async () => {
  const file = $('upload').files[0];
  $('upload-error').textContent = '';
  if (!file) return;
  const preview = $('preview');
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.src = URL.createObjectURL(file);
  preview.classList.toggle('shown', file.type.startsWith('image/'));
  try {
    const p = await api('/api/predict', {
      method: 'POST',
      // Unknown types go as bytes, so the service itself says what is wrong with them.
      headers: {'Content-Type': file.type.startsWith('image/') ? file.type : 'application/octet-stream'},
      body: file,
    });
    showPrediction(p, `uploaded ${file.name}`, null);
  } catch (e) {
    $('upload-error').textContent = `${file.name}: ${e.message}`;
    preview.classList.remove('shown');
  }
});

// ---- model versions ----

const STATUS_BADGE = {
  CHAMPION: 'good', PROMOTED: 'info', REJECTED: 'bad', SHADOW: 'run', CANARY: 'run', ROLLED_BACK: 'bad',
  CANDIDATE: 'run', SUPERSEDED: '', EPOCH: '',
  FAILED: 'bad',
};

function gateCell(v) {
  if (!v.gate) return '–';
  const g = v.gate;
  const vs = g.championAccuracy != null ? ` vs ${pct(g.championAccuracy)} (v${g.championVersion})` : '';
  return `<span title="${escape(v.verdict || '')}">${pct(g.accuracy)}${vs} on ${fmt.format(g.images)} ${escape(g.split)}</span>`;
}

/** A version's live accuracy on labelled outcomes, with its 95% Wilson interval; "no labels yet" without any. */
function liveCell(figures) {
  if (!figures || !figures.labelled) return '<span class="muted">no labels yet</span>';
  const [low, high] = figures.interval;
  return `<span title="95% Wilson interval on ${fmt.format(figures.labelled)} labelled outcomes">${pct(figures.accuracy)}` +
    ` <span class="muted small">(${pct(low)}–${pct(high)})</span></span>`;
}

function shadowCell(v) {
  if (!v.shadow) return '–';
  return `${pct(v.shadow.agreement)} of ${fmt.format(v.shadow.images)} · ${v.shadow.meanMillis.toFixed(2)} ms`;
}

/** The newest live figures per version ({version: figures}); pin and follow answer without them. */
let live = {};
let lastView = null;

function renderModels(view) {
  if (view.live) live = view.live;
  lastView = view;
  const serving = view.serving != null ? `v${view.serving}` : 'none';
  const champion = view.champion != null ? `v${view.champion}` : 'none';
  $('serving').textContent = `serving ${serving} · champion ${champion} · ${view.mode === 'PINNED' ? 'pinned' : 'following'}` +
    ` · policy ${view.policy} · ${fmt.format(view.reloads)} reloads`;
  $('mode').textContent = !view.caughtUp
    ? 'Reading the model topics from Kafka…'
    : view.mode === 'PINNED'
      ? `Pinned to v${view.pinned} on every replica: new champions are listed but do not serve.`
      : `Following the champion (policy "${view.policy}").`;
  $('mode').dataset.mode = view.mode;
  $('follow').disabled = view.mode !== 'PINNED';
  document.querySelector('#versions tbody').innerHTML = view.versions.map((v) => {
    const status = [
      `<span class="badge ${STATUS_BADGE[v.status] ?? ''}">${escape((v.status || '').toLowerCase())}</span>`,
      v.serving ? '<span class="badge good">serving</span>' : '',
      v.version === view.pinned ? '<span class="badge info">pinned</span>' : '',
      v.failure ? `<span class="badge bad">${escape(v.failure)}</span>` : '',
    ].join(' ');
    const pinnable = v.activatable && !(v.serving && v.version === view.pinned);
    const figures = live[v.version];
    return `<tr data-version="${escape(v.version)}"${v.serving ? ' class="current"' : ''}>
      <td>v${escape(v.version)}</td><td>${escape(v.runId)}</td><td>${escape(v.epoch)} / ${escape(v.epochs)}</td>
      <td>${new Date(v.createdAt).toLocaleString()}</td><td>${pct(v.accuracy)}</td><td>${pct(v.devAccuracy)}</td>
      <td class="live">${liveCell(figures)}</td><td class="labelled">${fmt.format(figures?.labelled ?? 0)}</td>
      <td>${typeof v.devLoss === 'number' ? v.devLoss.toFixed(4) : '–'}</td><td>${pct(v.testAccuracy)}</td>
      <td class="text">${gateCell(v)}</td><td class="text">${shadowCell(v)}</td>
      <td class="text">${status}</td>
      <td><button type="button" class="secondary" data-pin="${escape(v.version)}"${pinnable ? '' : ' disabled'}>Serve this</button></td>
    </tr>`;
  }).join('');
  $('rejected').innerHTML = view.rejected.length
    ? `<h3>Rejected checkpoints</h3><ul class="small">${view.rejected.map((r) =>
      `<li>${escape(r.source)}: ${escape(r.reason)}: ${escape(r.message)}</li>`).join('')}</ul>`
    : '';
  $('history').innerHTML = (view.history || []).length
    ? `<h3>Control history (model.control, every replica)</h3><ul class="small">${view.history.map((h) =>
      `<li>${new Date(h.at).toLocaleString()} · <b>${escape(h.type)}</b>${h.version != null ? ` v${h.version}` : ''}` +
      ` by ${escape(h.by)}: ${escape(h.reason)}</li>`).join('')}</ul>`
    : '';
  renderConfusion(view);
}

// ---- the confusion matrix of one version's labelled outcomes ----

/** The version the user picked for the heat map; null follows the one that serves. */
let chosenVersion = null;

function renderConfusion(view) {
  const select = $('confusion-version');
  const versions = view.versions.map((v) => v.version);
  if (chosenVersion != null && !versions.includes(chosenVersion)) chosenVersion = null;
  const shown = chosenVersion ?? view.serving ?? versions[0] ?? null;
  setHtml(select, view.versions.map((v) => {
    const n = live[v.version]?.labelled ?? 0;
    const label = `v${v.version}${v.serving ? ' (serving)' : ''} · ${n ? `${fmt.format(n)} labelled` : 'no labels yet'}`;
    return `<option value="${escape(v.version)}"${v.version === shown ? ' selected' : ''}>${escape(label)}</option>`;
  }).join(''));
  select.disabled = !versions.length;
  const figures = shown == null ? null : live[shown];
  const table = $('confusion');
  table.dataset.version = shown ?? '';
  if (!figures || !figures.labelled) {
    $('confusion-summary').textContent = shown == null ? 'no labels yet' : `v${shown}: no labels yet`;
    setHtml(table, '');
    return;
  }
  const [low, high] = figures.interval;
  $('confusion-summary').textContent = `v${shown}: ${pct(figures.accuracy)} right (95% interval ${pct(low)}–` +
    `${pct(high)}) on ${fmt.format(figures.labelled)} labelled outcomes`;
  const head = '<tr><th>actual ↓ predicted →</th>' + [...Array(10).keys()].map((p) => `<th>${p}</th>`).join('') +
    '<th>labelled</th></tr>';
  const rows = figures.confusion.map((row, actual) => {
    const total = row.reduce((a, b) => a + b, 0);
    const cells = row.map((count, predicted) => {
      const share = total ? count / total : 0;
      const hue = actual === predicted ? '47, 111, 222' : '192, 57, 43';
      const colour = count ? `rgba(${hue}, ${Math.max(share, 0.08).toFixed(3)})` : 'var(--bg)';
      const title = `actual ${actual}, predicted ${predicted}: ${fmt.format(count)} of ${fmt.format(total)}` +
        (total ? ` (${(share * 100).toFixed(1)}%)` : '');
      return `<td data-actual="${actual}" data-predicted="${predicted}" data-count="${escape(count)}"` +
        ` title="${escape(title)}" style="background: ${colour};` +
        `${share > 0.5 ? ' color: #fff;' : ''}">${count ? fmt.format(count) : ''}</td>`;
    }).join('');
    return `<tr><th>${actual}</th>${cells}<td class="total">${fmt.format(total)}</td></tr>`;
  }).join('');
  setHtml(table, head + rows);
}

/** Replaces an element's content only when it changed, so a refresh neither closes an open list nor a tooltip. */
function setHtml(element, html) {
  if (element.dataset.html !== html) {
    element.innerHTML = html;
    element.dataset.html = html;
  }
}

$('confusion-version').addEventListener('change', () => {
  chosenVersion = Number($('confusion-version').value);
  if (lastView) renderConfusion(lastView);
});

async function loadModels() {
  try {
    renderModels(await api('/api/models'));
  } catch (e) {
    $('models-error').textContent = `Cannot read the model versions: ${e.message}`;
  }
}

async function changeModel(url, button) {
  $('models-error').textContent = '';
  button.disabled = true;
  try {
    renderModels(await operatorApi(url));
    predictDrawing(); // the drawing again, by the model that serves now
  } catch (e) {
    $('models-error').textContent = e.message;
    button.disabled = false;
  }
}

$('versions').addEventListener('click', (e) => {
  const button = e.target.closest('button[data-pin]');
  if (button) changeModel(`/api/models/${button.dataset.pin}/activate`, button);
});
$('follow').addEventListener('click', () => changeModel('/api/models/follow', $('follow')));

// ---- live counts ----

async function loadStats() {
  try {
    const s = await api('/api/stats');
    $('stat-total').textContent = fmt.format(s.predictions.total);
    $('stat-kafka').textContent = fmt.format(s.predictions.by.kafka || 0);
    $('stat-http').textContent = fmt.format((s.predictions.by.http || 0) + (s.predictions.by.oip || 0));
    $('stat-dead').textContent = fmt.format(s.deadLetters.total);
    $('stat-reasons').textContent = Object.entries(s.deadLetters.by).map(([r, n]) => `${r}: ${fmt.format(n)}`).join(' · ');
    $('stats-error').textContent = '';
  } catch (e) {
    $('stats-error').textContent = `Cannot read the counts: ${e.message}`;
  }
}

clearPad();
loadModels();
loadStats();
setInterval(loadStats, 2000);
setInterval(loadModels, 5000);
