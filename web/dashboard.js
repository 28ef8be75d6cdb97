// The supervent dashboard. Polls /api/status (the JSON `supervent-ctl status
// --json` prints) once a second, keeps the last 15 minutes of samples in
// the page, and draws them on small hand-written canvas charts: nothing is
// loaded from anywhere but superventd itself.
'use strict';

const POLL_MS = 1000;
const KEEP_MS = 15 * 60 * 1000;
const COLORS = { target: '#8c959f', rate: '#0969da', raw_bps: '#8250df', wire_bps: '#0969da', acked: '#1a7f37',
                 failed: '#cf222e', retried: '#9a6700', p50: '#1a7f37', p90: '#9a6700', p99: '#cf222e' };
const LABELS = { rate: 'actual', raw_bps: 'uncompressed', wire_bps: 'wire' };

const samples = [];   // {t, rate, target, raw_bps, wire_bps, acked_ps, failed_ps, retried_ps, p50, p90, p99}
let previous = null;  // the last status and when it came, for per-second deltas
let unavailableSince = null;

const $ = (id) => document.getElementById(id);

// ---- numbers as an operator reads them -------------------------------------

function si(value, unit = '') {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  const abs = Math.abs(value);
  for (const [scale, prefix] of [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']]) {
    if (abs >= scale) return (value / scale).toFixed(abs >= 100 * scale ? 0 : 1) + ' ' + prefix + unit;
  }
  return (Number.isInteger(value) ? value : value.toFixed(abs >= 100 ? 0 : 1)) + (unit ? ' ' + unit : '');
}
const count = (value) => (value === null || value === undefined ? '–' : Number(value).toLocaleString('en-US'));
const ms = (seconds) => (seconds === null ? '–' : si(seconds * 1000, 'ms'));

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  seconds = Math.round(seconds);
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

// Sets an element's text and keeps the exact value beside it (data-value),
// so a test can compare what is shown with the status it came from.
function show(id, text, value) {
  const element = $(id);
  element.textContent = text;
  if (value !== undefined) element.dataset.value = String(value);
}

function row(cells, header = false) {
  const tr = document.createElement('tr');
  for (const cell of cells) {
    const td = document.createElement(header ? 'th' : 'td');
    if (cell instanceof Node) td.appendChild(cell); else td.textContent = cell;
    tr.appendChild(td);
  }
  return tr;
}

function fillTable(id, header, rows, empty) {
  const table = $(id);
  table.replaceChildren(row(header, true));
  for (const cells of rows) table.appendChild(row(cells));
  if (rows.length === 0) table.appendChild(row([empty]));
}

function meter(fraction) {
  const outer = document.createElement('span');
  outer.className = 'bar small';
  const inner = document.createElement('div');
  inner.style.width = Math.round(Math.min(1, fraction) * 100) + '%';
  outer.appendChild(inner);
  return outer;
}

// ---- latency percentiles from the histogram --------------------------------

// The q-quantile (seconds) of bucket counts `counts` with upper bounds `le`
// (the last bucket is +Inf), linear within a bucket; null when empty.
function quantile(counts, le, q) {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let seen = 0;
  for (let k = 0; k < counts.length; ++k) {
    if (counts[k] === 0) continue;
    if (seen + counts[k] >= q * total) {
      const lower = k === 0 ? 0 : le[k - 1];
      const upper = k < le.length ? le[k] : le[le.length - 1];
      return lower + (upper - lower) * ((q * total - seen) / counts[k]);
    }
    seen += counts[k];
  }
  return le[le.length - 1];
}

// ---- charts ------------------------------------------------------------------

// Draws series (names of sample fields) over the kept window on a canvas;
// the canvas records how many points it drew (data-points).
function lineChart(canvas, series, format) {
  const { ctx, width, height } = prepare(canvas);
  // The x axis spans what the page holds: from a minute up to the 15 kept.
  const now = Date.now(), left = 62, bottom = height - 18;
  const span = Math.min(KEEP_MS, Math.max(60000, samples.length ? now - samples[0].t : 0));
  let top = 0;
  for (const s of samples) for (const name of series) if (s[name] !== null && s[name] > top) top = s[name];
  top = top > 0 ? top * 1.15 : 1;
  axes(ctx, left, width, bottom, top, format);
  let points = 0;
  series.forEach((name, index) => {
    ctx.strokeStyle = COLORS[name];
    ctx.lineWidth = name === 'target' ? 1 : 2;
    ctx.setLineDash(name === 'target' ? [5, 4] : []);
    ctx.beginPath();
    let drawing = false;
    for (const s of samples) {
      if (s[name] === null || s[name] === undefined) { drawing = false; continue; }
      const x = left + (width - left) * (1 - (now - s.t) / span);
      const y = bottom - (bottom - 6) * (s[name] / top);
      if (drawing) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      drawing = true;
      ++points;
    }
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = COLORS[name];
    ctx.fillText(LABELS[name] || name, left + 8 + index * 90, 12);
  });
  ctx.fillStyle = '#57606a';
  ctx.fillText('−' + duration(span / 1000), left, height - 4);
  ctx.fillText('now', width - 24, height - 4);
  canvas.dataset.points = String(points);
}

function prepare(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
  if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = '11px system-ui, sans-serif';
  return { ctx, width, height };
}

function axes(ctx, left, width, bottom, top, format) {
  ctx.strokeStyle = '#eaeef2';
  ctx.fillStyle = '#57606a';
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; ++i) {
    const y = bottom - (bottom - 6) * (i / 4);
    ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(width, y); ctx.stroke();
    ctx.fillText(format((top * i) / 4), 2, y + 4);
  }
}

// The histogram now: requests per bucket since the start, over the buckets
// that hold any, on a log-spaced axis of upper bounds.
function histogramChart(canvas, histogram) {
  const { ctx, width, height } = prepare(canvas);
  const counts = histogram ? histogram.counts : [];
  const first = counts.findIndex((c) => c > 0);
  if (first < 0) { ctx.fillStyle = '#57606a'; ctx.fillText('no acknowledged requests yet', 10, 20); return; }
  let last = counts.length - 1;
  while (counts[last] === 0) --last;
  const shown = counts.slice(first, last + 1), top = Math.max(...shown), bottom = height - 18;
  const barWidth = (width - 10) / shown.length;
  shown.forEach((c, i) => {
    const h = (bottom - 14) * (c / top);
    ctx.fillStyle = '#0969da';
    ctx.fillRect(5 + i * barWidth + 1, bottom - h, Math.max(1, barWidth - 2), h);
  });
  ctx.fillStyle = '#57606a';
  const bound = (k) => (k < histogram.le_s.length ? '≤ ' + ms(histogram.le_s[k]) : '> ' + ms(histogram.le_s[histogram.le_s.length - 1]));
  ctx.fillText(bound(first), 5, height - 4);
  const lastLabel = bound(last);
  ctx.fillText(lastLabel, width - ctx.measureText(lastLabel).width - 4, height - 4);
  ctx.fillText('max ' + count(top) + ' requests in a bucket', 10, 12);
  canvas.dataset.points = String(shown.length);
}

// ---- one poll ---------------------------------------------------------------

function perSecond(status, now, pick) {
  if (!previous) return null;
  const seconds = (now - previous.at) / 1000;
  const before = pick(previous.status), after = pick(status);
  return seconds > 0 && after >= before ? (after - before) / seconds : null;
}

function record(status, now) {
  const h = status.latency_histogram;
  let p = { p50: null, p90: null, p99: null };
  if (h && previous && previous.status.latency_histogram) {
    const delta = h.counts.map((c, k) => c - previous.status.latency_histogram.counts[k]);
    p = { p50: quantile(delta, h.le_s, 0.5), p90: quantile(delta, h.le_s, 0.9), p99: quantile(delta, h.le_s, 0.99) };
  }
  const sample = {
    t: now, rate: status.rate_actual, target: typeof status.rate_target === 'number' ? status.rate_target : null,
    raw_bps: perSecond(status, now, (s) => s.bytes_generated), wire_bps: status.bytes_per_second,
    acked: perSecond(status, now, (s) => s.events_acked), failed: perSecond(status, now, (s) => s.events_failed),
    retried: perSecond(status, now, (s) => s.requests_retried),
    p50: p.p50 === null ? null : p.p50 * 1000, p90: p.p90 === null ? null : p.p90 * 1000, p99: p.p99 === null ? null : p.p99 * 1000,
  };
  samples.push(sample);
  while (samples.length && now - samples[0].t > KEEP_MS) samples.shift();
  return sample;
}

function showTiles(status, sample) {
  show('rate_actual', si(status.rate_actual), status.rate_actual);
  show('rate_target', typeof status.rate_target === 'number' ? si(status.rate_target) : status.rate_target, status.rate_target);
  show('wire_bps', si(status.bytes_per_second, 'B/s'), status.bytes_per_second);
  show('raw_bps', si(sample.raw_bps, 'B/s'), sample.raw_bps);
  // Uncompressed over compressed body bytes (null: no compression).
  const ratio = status.compression_ratio;
  show('compression_ratio', typeof ratio === 'number' ? ratio.toFixed(2) + '×' : 'none', ratio);
  for (const key of ['events_acked', 'events_generated', 'events_failed', 'events_in_flight', 'requests_retried', 'requests_ambiguous']) {
    show(key, count(status[key]), status[key]);
  }
  const all = status.latency_histogram;
  const p = (q) => (all ? quantile(all.counts, all.le_s, q) : null);
  show('p50', ms(p(0.5)), p(0.5));
  show('p90', ms(p(0.9)), p(0.9));
  show('p99', ms(p(0.99)), p(0.99));
}

function showHeader(status, now) {
  const state = $('state');
  state.textContent = status.state;
  state.className = 'badge ' + status.state;
  show('sink', '→ ' + status.sink + (status.dataset ? ' · dataset ' + status.dataset : ''));
  show('uptime', duration(status.uptime_s));
  show('workers', String(status.workers));
  show('updated', new Date(now).toLocaleTimeString());
  const banner = $('banner');
  const outage = sinkOutage(status, now);
  banner.hidden = outage === null;
  if (outage !== null) banner.textContent = 'sink unavailable since ' + outage;
}

// Since when the sink has failed every attempt: the daemon's own account
// (status.sink_unavailable) where it gives one, else seen from here: nothing
// acknowledged while connections or requests fail.
function sinkOutage(status, now) {
  if (status.sink_unavailable !== undefined) {
    const o = status.sink_unavailable;
    return o === null ? null : `${o.since} (${duration(o.for_s)}): ${o.cause || 'every attempt fails'}`;
  }
  const acked = perSecond(status, now, (s) => s.events_acked);
  const failing = (perSecond(status, now, (s) => s.connect_failures + s.requests_retried + s.requests_failed) || 0) > 0;
  if (acked === 0 && failing) unavailableSince = unavailableSince || now;
  else if (acked > 0) unavailableSince = null;
  return unavailableSince === null ? null : new Date(unavailableSince).toLocaleTimeString() + ': nothing acknowledged, requests failing';
}

function showFailures(status) {
  const reasons = Object.entries(status.events_failed_by_reason || {});
  fillTable('failed_by_reason', ['reason', 'events'], reasons.map(([reason, n]) => [reason, count(n)]), 'none');
  // data-reasons: the exact counts, for tests.
  $('failed_by_reason').dataset.reasons = JSON.stringify(status.events_failed_by_reason || {});
}

function showShards(status) {
  fillTable('shards', ['worker', 'phase', 'slots', '', 'backpressure', 'generated', 'acked', 'failed'],
    status.shards.map((s) => [String(s.index), s.phase, `${s.slots_busy}/${s.slots_total}`, meter(s.slots_total ? s.slots_busy / s.slots_total : 0),
      s.backpressured ? 'yes' : 'no', count(s.events_generated), count(s.events_acked), count(s.events_failed)]), '');
  $('shards').querySelectorAll('td').forEach((td) => { if (td.textContent === 'yes') td.className = 'yes'; });
}

function showSources(status, now) {
  const datasets = new Map();
  const rows = status.sources.map((source, i) => {
    const before = previous && previous.status.sources[i] && previous.status.sources[i].name === source.name ? previous.status.sources[i].events_generated : null;
    const rate = before === null || source.events_generated === null ? null : (source.events_generated - before) / ((now - previous.at) / 1000);
    const d = datasets.get(source.dataset) || { total: 0, rate: 0 };
    d.total += source.events_generated || 0;
    d.rate += rate || 0;
    datasets.set(source.dataset, d);
    return [source.name, source.dataset, source.enabled ? 'on' : 'off', si(rate), count(source.events_generated)];
  });
  fillTable('sources', ['source', 'dataset', '', 'events/s', 'events'], rows, 'no sources');
  fillTable('datasets', ['dataset', 'events/s', 'events'], [...datasets].map(([name, d]) => [name, si(d.rate), count(d.total)]), 'none');
}

function showBackfill(status) {
  const progress = status.progress;
  $('backfill_box').hidden = !progress;
  if (!progress) return;
  $('backfill_bar').style.width = (progress.fraction * 100).toFixed(1) + '%';
  show('backfill_percent', (progress.fraction * 100).toFixed(1) + ' %', progress.fraction);
  show('backfill_roots', `${count(progress.roots_done)} of ${count(progress.roots_total)}`);
  show('backfill_eta', progress.eta_s === null ? 'unknown' : duration(progress.eta_s), progress.eta_s);
}

function showNetwork(status, now) {
  const addresses = Object.entries(status.bytes_by_local_address || {});
  if (addresses.length) {
    fillTable('addresses', ['local address', 'bytes/s', 'bytes'], addresses.map(([address, bytes]) =>
      [address, si(perSecond(status, now, (s) => (s.bytes_by_local_address || {})[address] || 0), 'B/s'), si(bytes, 'B')]), '');
  }
  fillTable('interfaces', ['interface', 'tx/s', 'rx/s', 'tx packets', 'errors', 'dropped'], (status.interfaces || []).map((nic) => {
    const old = previous && (previous.status.interfaces || []).find((o) => o.name === nic.name);
    const rate = (key) => (old ? (nic[key] - old[key]) / ((now - previous.at) / 1000) : null);
    return [nic.name, si(rate('tx_bytes'), 'B/s'), si(rate('rx_bytes'), 'B/s'), count(nic.tx_packets),
      count((nic.tx_errors || 0) + (nic.rx_errors || 0)), count((nic.tx_dropped || 0) + (nic.rx_dropped || 0))];
  }), 'none (file or discard sink)');
}

function showTransport(status) {
  const rows = [];
  if (status.tls) {
    rows.push(['TLS handshakes', count(status.tls.tls_handshakes)], ['resumed', count(status.tls.tls_resumed)],
      ['kernel TLS', status.tls.kernel_tls]);
  } else {
    rows.push(['TLS', 'off (not HTTPS)']);
  }
  const copied = status.zc_notifications ? status.zc_copied / status.zc_notifications : 0;
  rows.push(['zero-copy notifications', count(status.zc_notifications)],
    ['copied by the kernel after all', status.zc_notifications ? (copied * 100).toFixed(0) + ' %' : '–']);
  rows.push(['connections opened', count(status.connects)], ['connects failed', count(status.connect_failures)]);
  fillTable('transport', ['', ''], rows, '');
}

function showSettings(status) {
  show('settings', status.settings_in_force || '');
  const when = status.last_reload_unix_s ? 'last reload ' + new Date(status.last_reload_unix_s * 1000).toLocaleString() : 'never reloaded';
  show('reloads', `${status.reloads} reloads, ${when}` + (status.config ? ' · ' + status.config : ''));
  const errors = $('errors');
  errors.replaceChildren();
  for (const text of status.errors) { const li = document.createElement('li'); li.textContent = text; errors.appendChild(li); }
  if (!status.errors.length) { const li = document.createElement('li'); li.className = 'muted'; li.textContent = 'none'; errors.appendChild(li); }
}

function render(status, now) {
  const h = status.latency_histogram;  // bounds come in exact nanoseconds; the page works in seconds
  if (h) h.le_s = h.le_ns.map((ns) => ns / 1e9);
  const sample = record(status, now);
  showHeader(status, now);
  showTiles(status, sample);
  showFailures(status);
  showShards(status);
  showSources(status, now);
  showBackfill(status);
  showNetwork(status, now);
  showTransport(status);
  showSettings(status);
  lineChart($('chart_rate'), ['target', 'rate'], si);
  lineChart($('chart_bytes'), ['raw_bps', 'wire_bps'], (v) => si(v, 'B'));
  lineChart($('chart_outcomes'), ['acked', 'failed', 'retried'], si);
  lineChart($('chart_latency'), ['p50', 'p90', 'p99'], (v) => si(v));
  histogramChart($('chart_histogram'), status.latency_histogram);
  previous = { status, at: now };
  document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
}

async function poll() {
  try {
    const response = await fetch('/api/status', { cache: 'no-store' });
    if (!response.ok) throw new Error('HTTP ' + response.status);
    render(await response.json(), Date.now());
  } catch (error) {
    $('state').textContent = 'unreachable';
    $('state').className = 'badge offline';
  }
}

// ---- control (only with the dashboard token) --------------------------------

async function control(action, body) {
  const result = $('control_result');
  try {
    const response = await fetch('/api/control/' + action, {
      method: 'POST', headers: { 'X-Supervent-Token': $('token').value, 'Content-Type': 'text/plain' }, body: body || '',
    });
    const reply = await response.json().catch(() => ({ ok: false, error: 'HTTP ' + response.status }));
    result.textContent = reply.ok ? action + ': done' : action + ' refused: ' + reply.error;
    result.dataset.status = String(response.status);
  } catch (error) {
    result.textContent = action + ' failed: ' + error;
  }
}

$('pause').addEventListener('click', () => control('pause'));
$('resume').addEventListener('click', () => control('resume'));
$('set_rate').addEventListener('click', () => control('rate', $('rate_value').value.trim()));
poll();
setInterval(poll, POLL_MS);
