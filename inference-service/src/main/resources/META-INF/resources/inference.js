// The inference page: draw or upload a digit and see the prediction; model versions, pin and follow; live counts.
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
      body: JSON.stringify({id: `drawing-${sent}`, png: pad.toDataURL('image/png')}),
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
  CHAMPION: 'good', PROMOTED: 'info', REJECTED: 'bad', SHADOW: 'run', CANDIDATE: 'run', SUPERSEDED: '', EPOCH: '',
  FAILED: 'bad',
};

function gateCell(v) {
  if (!v.gate) return '–';
  const g = v.gate;
  const vs = g.championAccuracy != null ? ` vs ${pct(g.championAccuracy)} (v${g.championVersion})` : '';
  return `<span title="${escape(v.verdict || '')}">${pct(g.accuracy)}${vs} on ${fmt.format(g.images)} ${escape(g.split)}</span>`;
}

function shadowCell(v) {
  if (!v.shadow) return '–';
  return `${pct(v.shadow.agreement)} of ${fmt.format(v.shadow.images)} · ${v.shadow.meanMillis.toFixed(2)} ms`;
}

function renderModels(view) {
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
    return `<tr data-version="${v.version}"${v.serving ? ' class="current"' : ''}>
      <td>v${v.version}</td><td>${escape(v.runId)}</td><td>${v.epoch} / ${v.epochs}</td>
      <td>${new Date(v.createdAt).toLocaleString()}</td><td>${pct(v.accuracy)}</td><td>${pct(v.devAccuracy)}</td>
      <td>${typeof v.devLoss === 'number' ? v.devLoss.toFixed(4) : '–'}</td><td>${pct(v.testAccuracy)}</td>
      <td class="text">${gateCell(v)}</td><td class="text">${shadowCell(v)}</td>
      <td class="text">${status}</td>
      <td><button type="button" class="secondary" data-pin="${v.version}"${pinnable ? '' : ' disabled'}>Serve this</button></td>
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
}

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
