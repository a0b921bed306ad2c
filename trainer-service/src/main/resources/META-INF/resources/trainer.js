// The trainer page: runs, the shown run's curves (live over server-sent events), its history, a start form.
import { $, api, fmt, operatorApi } from '/common/page.js';

const num = (v, digits = 4) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–');
const pct = (v) => (typeof v === 'number' ? (v * 100).toFixed(2) + '%' : '–');
const time = (ms) => (ms ? new Date(ms).toLocaleTimeString() : '–');
const escape = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'})[c]);
const stateClass = (s) => ({COMPLETED: 'good', FAILED: 'bad', RUNNING: 'run', QUEUED: 'info', CANCELLED: ''})[s] || '';

let runs = [];
let followNewest = true;
/** The shown run: its summary fields plus history rows by epoch. */
let shown = null;
let lossChart;
let accuracyChart;

function lineChart(canvas, yTitle) {
  const dataset = (label, color, dash) => ({
    label, data: [], borderColor: color, backgroundColor: color, borderDash: dash, tension: 0.2, pointRadius: 3,
  });
  return new Chart(canvas, {
    type: 'line',
    data: {labels: [], datasets: [dataset('training', '#2f6fde', []), dataset('dev', '#f28e2b', [6, 3])]},
    options: {
      maintainAspectRatio: false,
      animation: false,
      interaction: {mode: 'index', intersect: false},
      plugins: {legend: {labels: {usePointStyle: true}}},
      scales: {x: {title: {display: true, text: 'epoch'}}, y: {title: {display: true, text: yTitle}}},
    },
  });
}

function renderRun() {
  if (!shown) return;
  const rows = [...shown.rows.values()].sort((a, b) => a.epoch - b.epoch);
  $('run-id').textContent = shown.runId;
  $('run-state').textContent = shown.state || '';
  $('run-state').className = 'badge ' + stateClass(shown.state);
  $('run-progress').textContent = shown.epochs ? `epoch ${rows.length} of ${shown.epochs}` : '';
  $('run-follow').textContent = followNewest ? '(following the newest run)' : '';
  $('run-settings').textContent = [shown.settings, shown.device && `on ${shown.device}`].filter(Boolean).join(' · ');
  const result = [];
  if (shown.testAccuracy != null) {
    result.push(`<div><b>${pct(shown.testAccuracy)}</b><span>test accuracy</span></div>`);
    result.push(`<div><b>${num(shown.testLoss)}</b><span>test loss</span></div>`);
  }
  if (shown.modelVersion != null) {
    result.push(`<div><b>v${shown.modelVersion}</b><span>latest checkpoint</span></div>`);
  }
  $('run-result').innerHTML = result.join('');
  $('run-message').textContent = shown.state === 'FAILED' ? shown.message || 'failed' : '';

  const epochs = rows.map((r) => r.epoch);
  for (const [chart, train, dev] of [[lossChart, 'loss', 'devLoss'], [accuracyChart, 'accuracy', 'devAccuracy']]) {
    chart.data.labels = epochs;
    chart.data.datasets[0].data = rows.map((r) => r[train]);
    chart.data.datasets[1].data = rows.map((r) => r[dev]);
    chart.update('none');
  }
  document.querySelector('#history tbody').innerHTML = rows.map((r) => `<tr>
      <td>${r.epoch}</td><td>${num(r.loss)}</td><td>${num(r.accuracy)}</td><td>${num(r.devLoss)}</td>
      <td>${num(r.devAccuracy)}</td><td>${num(r.seconds, 1)}</td><td>${fmt.format(Math.round(r.imagesPerSecond || 0))}</td>
      <td>v${r.modelVersion}</td></tr>`).join('');
  const d = shown.describe;
  const stats = [['count', 'count', 0], ['mean', 'mean'], ['std', 'std'], ['min', 'min'], ['25%', 'p25'],
    ['50%', 'p50'], ['75%', 'p75'], ['max', 'max']];
  document.querySelector('#describe tbody').innerHTML = d
    ? stats.map(([label, key, digits]) => `<tr><td>${label}</td>${['loss', 'accuracy', 'devLoss', 'devAccuracy']
      .map((c) => `<td>${num(d[c][key], digits ?? 4)}</td>`).join('')}</tr>`).join('')
    : '';
}

function renderRuns() {
  document.querySelector('#runs tbody').innerHTML = runs.map((r) => {
    const took = r.finishedAt ? `${((r.finishedAt - r.startedAt) / 1000).toFixed(0)} s` : '';
    const detail = r.state === 'FAILED' || r.state === 'CANCELLED' ? r.message : r.settings;
    const waiting = (x) => x.epochsWaitingForKafka > 1
      ? ` <span title="trained here, published when Kafka takes them">(trained ${x.trainedEpoch}, ${x.epochsWaitingForKafka} waiting for Kafka)</span>` : '';
    const place = r.state === 'QUEUED' && r.position ? ` #${r.position}` : '';
    const cancel = r.state === 'QUEUED' || r.state === 'RUNNING'
      ? `<button type="button" class="secondary" data-cancel="${escape(r.runId)}">Cancel</button>` : '';
    return `<tr class="clickable${shown && shown.runId === r.runId ? ' current' : ''}" data-run="${escape(r.runId)}">
      <td>${escape(r.runId)}</td><td><span class="badge ${stateClass(r.state)}">${r.state}${place}</span></td>
      <td>${r.epochsDone}${r.epochs ? ' / ' + r.epochs : ''}${waiting(r)}</td><td>${pct(r.last && r.last.devAccuracy)}</td>
      <td>${pct(r.testAccuracy)}</td><td>${r.modelVersion != null ? 'v' + r.modelVersion : ''}</td>
      <td>${time(r.startedAt)}</td><td>${took}</td><td class="text small">${escape(detail)}</td><td>${cancel}</td></tr>`;
  }).join('');
}

async function loadRun(runId) {
  try {
    const run = await api(`/api/runs/${encodeURIComponent(runId)}`);
    const rows = new Map(run.history.map((r) => [r.epoch, r]));
    // Keep rows an event brought before this answer was read.
    if (shown && shown.runId === runId) {
      for (const [epoch, row] of shown.rows) if (!rows.has(epoch)) rows.set(epoch, row);
    }
    shown = {...run, rows};
    renderRun();
    renderRuns();
  } catch (e) {
    $('run-message').textContent = `Cannot read run ${runId}: ${e.message}`;
  }
}

async function loadRuns() {
  try {
    runs = await api('/api/runs');
    renderRuns();
    if (followNewest && runs.length && (!shown || shown.runId !== runs[0].runId)) {
      await loadRun(runs[0].runId);
    }
  } catch (e) {
    $('run-message').textContent = `Cannot read the runs: ${e.message}`;
  }
}

let runsTimer;
/** Coalesces list refreshes: epochs can arrive in quick succession. */
function refreshRunsSoon() {
  clearTimeout(runsTimer);
  runsTimer = setTimeout(loadRuns, 150);
}

function onTrainingEvent(e) {
  if (e.type === 'STARTED' && followNewest) {
    shown = {runId: e.runId, state: 'RUNNING', epochs: e.epochs, settings: e.message, device: e.device, rows: new Map()};
    renderRun();
  }
  if (shown && e.runId === shown.runId) {
    if (e.type === 'EPOCH') {
      shown.rows.set(e.epoch, {
        epoch: e.epoch, loss: e.loss, accuracy: e.accuracy, devLoss: e.devLoss, devAccuracy: e.devAccuracy,
        seconds: e.seconds, imagesPerSecond: e.imagesPerSecond, modelVersion: e.modelVersion,
      });
      shown.modelVersion = e.modelVersion;
      renderRun();
    }
    // The describe() statistics and the outcome come from the run's own record.
    loadRun(e.runId);
  }
  refreshRunsSoon();
}

function connect() {
  const source = new EventSource('/api/runs/events');
  source.onopen = () => {
    $('live').textContent = 'live';
    $('live').className = 'badge good';
    loadRuns(); // whatever happened while not connected
  };
  source.onerror = () => {
    $('live').textContent = 'reconnecting';
    $('live').className = 'badge bad';
  };
  source.onmessage = (m) => onTrainingEvent(JSON.parse(m.data));
}

/** A field's text as the command's value: a number when it reads as one, else the text for the server to judge. */
function value(form, name) {
  const text = form.elements[name].value.trim();
  if (text === '') return undefined;
  if (name === 'runId' || name === 'optimizer') return text;
  return /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text) ? Number(text) : text;
}

async function start(event) {
  event.preventDefault();
  const form = event.target;
  $('start-error').textContent = '';
  $('start-ok').textContent = '';
  const command = {};
  for (const name of ['runId', 'epochs', 'batchSize', 'learningRate', 'optimizer', 'seed']) {
    const v = value(form, name);
    if (v !== undefined) command[name] = v;
  }
  try {
    const accepted = await operatorApi('/api/runs', {body: command});
    $('start-ok').textContent = `Run ${accepted.runId} queued on training.commands.`;
    followNewest = true;
  } catch (e) {
    $('start-error').textContent = e.message;
  }
}

async function loadModel() {
  try {
    const m = await api('/api/model');
    $('model').textContent = `the tutorial's LeNet-5 with BatchNorm · ${fmt.format(m.totalParameters)} parameters ` +
      `(${fmt.format(m.trainableParameters)} trainable) · trains on ${m.device}`;
  } catch (e) {
    $('model').textContent = `network summary unavailable: ${e.message}`;
  }
}

lossChart = lineChart($('loss-chart'), 'loss');
accuracyChart = lineChart($('accuracy-chart'), 'accuracy');
$('start').addEventListener('submit', start);
$('runs').addEventListener('click', async (e) => {
  const button = e.target.closest('button[data-cancel]');
  if (button) {
    button.disabled = true;
    try {
      await operatorApi(`/api/runs/${encodeURIComponent(button.dataset.cancel)}`, {method: 'DELETE'});
    } catch (err) {
      $('run-message').textContent = `Cannot cancel ${button.dataset.cancel}: ${err.message}`;
    }
    refreshRunsSoon();
    return;
  }
  const row = e.target.closest('tr[data-run]');
  if (!row) return;
  followNewest = false;
  loadRun(row.dataset.run);
});
$('follow').addEventListener('click', (e) => {
  e.preventDefault();
  followNewest = true;
  shown = null;
  loadRuns();
});
loadModel();
loadRuns();
connect();
