// The ingest page: dataset statistics, images per class, sample digits, re-ingest.
import { $, api, fmt, operatorApi } from '/common/page.js';

let labelChart;
let pollTimer;
let shownDataset;

function renderStatus(status) {
  const state = $('state');
  state.textContent = status.state;
  state.className = 'badge ' + ({DONE: 'good', SKIPPED: 'good', FAILED: 'bad', RUNNING: 'run'}[status.state] || '');
  $('message').textContent = status.message || '';
  const written = status.imagesWritten || {};
  const parts = ['train', 'dev', 'test'].filter((split) => split in written).map(
    (split) => `<div><b>${fmt.format(written[split])}</b><span>${split} images written</span></div>`);
  if (status.imagesPerSecond) {
    parts.push(`<div><b>${fmt.format(Math.round(status.imagesPerSecond))}</b><span>images / s</span></div>`);
  }
  $('progress').innerHTML = parts.join('');
  const m = status.manifest;
  $('manifest').textContent = m
    ? `On Kafka: dataset ${m.datasetId}, ` +
      Object.entries(m.splits).map(([s, v]) => `${s.toLowerCase()} ${fmt.format(v.images)}`).join(', ')
    : '';
  $('ingest').disabled = status.state === 'RUNNING';
}

function renderFacts(facts) {
  $('dataset-id').textContent = `dataset ${facts.datasetId}`;
  const rows = Object.entries(facts.splits).map(([name, s]) => `<tr data-split="${name}">
      <td>${name}</td><td>${fmt.format(s.images)}</td><td>(${s.rawShape.join(', ')})</td><td>${s.rawDtype}</td>
      <td>${s.rawPeakToPeak}</td><td>(${s.shape.join(', ')})</td><td>${s.dtype}</td>
      <td>${s.min.toFixed(1)}</td><td>${s.max.toFixed(1)}</td><td>${s.peakToPeak.toFixed(1)}</td></tr>`);
  document.querySelector('#facts tbody').innerHTML = rows.join('');

  const colors = {train: '#2f6fde', dev: '#f28e2b', test: '#59a14f'};
  const datasets = Object.entries(facts.splits).map(([name, s]) => ({
    label: name,
    data: s.labelCounts,
    backgroundColor: colors[name] || '#999',
  }));
  const labels = [...Array(10).keys()].map(String);
  if (!labelChart) {
    labelChart = new Chart($('label-chart'), {
      type: 'bar',
      data: {labels, datasets},
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: {x: {title: {display: true, text: 'digit'}}, y: {title: {display: true, text: 'images'}}},
      },
    });
  } else {
    labelChart.data.datasets = datasets;
    labelChart.update();
  }
}

async function refresh() {
  clearTimeout(pollTimer);
  try {
    const body = await api('/api/datasets/mnist');
    renderStatus(body.status);
    if (body.facts && body.facts.datasetId !== shownDataset) {
      shownDataset = body.facts.datasetId;
      renderFacts(body.facts);
    }
    // Fast while an ingest runs, slow otherwise.
    pollTimer = setTimeout(refresh, body.status.state === 'RUNNING' ? 1000 : 5000);
  } catch (e) {
    $('ingest-error').textContent = `Cannot read the ingest status: ${e.message}`;
    pollTimer = setTimeout(refresh, 5000);
  }
}

async function ingest() {
  $('ingest-error').textContent = '';
  $('ingest-ok').textContent = '';
  const force = $('force').checked;
  try {
    const status = await operatorApi(`/api/datasets/mnist/ingest${force ? '?force=true' : ''}`);
    $('ingest-ok').textContent = force ? 'Ingest started: writing another copy.' : 'Ingest started.';
    renderStatus(status);
  } catch (e) {
    $('ingest-error').textContent = e.message;
  }
  refresh();
}

function drawDigit(canvas, base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const image = new ImageData(28, 28);
  for (let i = 0; i < bytes.length; i++) {
    image.data.set([bytes[i], bytes[i], bytes[i], 255], i * 4);
  }
  canvas.getContext('2d').putImageData(image, 0, 0);
}

async function loadSamples(event) {
  if (event) event.preventDefault();
  $('samples-error').textContent = '';
  const perClass = $('per-class').value.trim();
  try {
    const body = await api(`/api/datasets/mnist/samples?perClass=${encodeURIComponent(perClass)}`);
    $('samples-source').textContent = `the first ${body.perClass} of each class in ${body.file}`;
    const grid = $('samples');
    grid.replaceChildren();
    for (const c of body.classes) {
      const digit = document.createElement('div');
      digit.className = 'digit';
      digit.textContent = c.digit;
      const strip = document.createElement('div');
      strip.className = 'strip';
      strip.dataset.digit = c.digit;
      c.pixels.forEach((p, k) => {
        const canvas = document.createElement('canvas');
        canvas.width = 28;
        canvas.height = 28;
        canvas.title = `training image #${c.indices[k]}, label ${c.digit}`;
        drawDigit(canvas, p);
        strip.append(canvas);
      });
      grid.append(digit, strip);
    }
  } catch (e) {
    $('samples-error').textContent = e.message;
  }
}

$('ingest').addEventListener('click', ingest);
$('samples-form').addEventListener('submit', loadSamples);
refresh();
loadSamples();
