// The Acquisition & ROI dashboard: workspace and date range in the URL,
// KPI tiles, the spend/revenue chart and the channel table, all from
// GET /api/v1/report. No figure is computed here except the change
// against the previous period.

import { getJSON, url } from './api.js';
import * as dates from './dates.js';
import { renderTiles } from './tiles.js';
import { renderTable } from './table.js';
import { renderChart } from './chart.js';

const $ = (id) => document.getElementById(id);

const state = {
  workspaces: [],
  ws: null, // the selected workspace
  columns: [],
  from: '',
  to: '',
  sort: { key: 'cost', dir: 'desc' },
  report: null, // the last by=channel report
  seq: 0, // the latest load; older answers are dropped
};

/** grainFor picks the chart's time grain: weeks under ~4 months, else months. */
function grainFor(from, to) {
  return dates.days(from, to) < 120 ? 'week' : 'month';
}

/** presetRange returns the dates of a preset, anchored on the last day with data. */
function presetRange(name) {
  const data = state.ws && state.ws.data;
  const end = data ? data.to : dates.today();
  switch (name) {
    case '30d':
      return [dates.addDays(end, -29), end];
    case '90d':
      return [dates.addDays(end, -89), end];
    case 'ytd':
      return [end.slice(0, 4) + '-01-01', end];
    case 'all':
      return data ? [data.from, data.to] : null;
  }
  return null;
}

function showError(err) {
  const box = $('error');
  box.textContent = err && err.message ? err.message : String(err);
  box.hidden = false;
  document.body.dataset.state = 'error';
  $('main').setAttribute('aria-busy', 'false');
}

function clearError() {
  $('error').hidden = true;
}

/** syncControls reflects the state in the inputs, presets and URL. */
function syncControls() {
  $('from').value = state.from;
  $('to').value = state.to;
  for (const b of document.querySelectorAll('[data-preset]')) {
    const r = presetRange(b.dataset.preset);
    b.disabled = !r;
    b.setAttribute('aria-pressed', String(!!r && r[0] === state.from && r[1] === state.to));
  }
  const q = new URLSearchParams();
  if (state.workspaces.length > 1) q.set('workspace', state.ws.name);
  if (state.from) q.set('from', state.from);
  if (state.to) q.set('to', state.to);
  history.replaceState(null, '', '?' + q.toString());
}

function reportParams(extra) {
  return { workspace: state.ws.name, from: state.from, to: state.to, ...extra };
}

/** load fetches and renders everything for the current state. */
async function load() {
  const seq = ++state.seq;
  const ws = state.ws;
  $('main').setAttribute('aria-busy', 'true');
  document.body.dataset.state = 'loading';
  clearError();
  try {
    // The first visit may have no dates: the server's default (the last
    // 90 days of data) then fills them in.
    const rep = await getJSON('api/v1/report', reportParams({ by: 'channel', compare: 'previous' }));
    if (seq !== state.seq) return;
    state.from = rep.from;
    state.to = rep.to;
    rep.rows = rep.rows || [];
    state.report = rep;
    syncControls();

    const grain = grainFor(rep.from, rep.to);
    const timeline = getJSON('api/v1/report', reportParams({ by: grain }));

    const currency = rep.currency;
    $('subtitle').textContent = `${dates.range(rep.from, rep.to)} · compared with ${dates.range(rep.previous_from, rep.previous_to)}`;
    renderTiles($('kpis'), rep, state.columns, currency);
    drawTable();
    $('table-sub').textContent = `${rep.rows.length} channel${rep.rows.length === 1 ? '' : 's'} · click a column to sort`;
    $('csv').href = url('api/v1/report', reportParams({ by: 'channel', format: 'csv' })).href;

    const series = await timeline;
    if (seq !== state.seq) return;
    $('chart-sub').textContent = `By ${grain} · ${currency}`;
    renderChart($('chart'), $('chart-data'), series, grain, currency);

    const data = ws.data ? `data from ${dates.range(ws.data.from, ws.data.to)}` : 'no data yet';
    $('foot').textContent = `${ws.name} · ${ws.preset.toUpperCase()} · figures in ${ws.currency} · days cut in ${ws.time_zone} · ${data}`;
    $('main').setAttribute('aria-busy', 'false');
    document.body.dataset.state = 'ready';
  } catch (err) {
    if (seq === state.seq) showError(err);
  }
}

function drawTable() {
  const rep = state.report;
  renderTable($('channels'), rep, state.columns, rep.currency, state.sort, (key) => {
    if (state.sort.key === key) {
      state.sort.dir = state.sort.dir === 'asc' ? 'desc' : 'asc';
    } else {
      state.sort = { key, dir: key === 'channel' ? 'asc' : 'desc' };
    }
    drawTable();
  });
}

function setRange(from, to) {
  if (!dates.isDate(from) || !dates.isDate(to) || from > to) return false;
  state.from = from;
  state.to = to;
  load();
  return true;
}

function bind() {
  for (const b of document.querySelectorAll('[data-preset]')) {
    b.addEventListener('click', () => {
      const r = presetRange(b.dataset.preset);
      if (r) setRange(r[0], r[1]);
    });
  }
  const onDate = () => {
    const from = $('from').value, to = $('to').value;
    const ok = dates.isDate(from) && dates.isDate(to) && from <= to;
    $('to').setCustomValidity(ok || !from || !to ? '' : 'The end date is before the start date.');
    if (ok && (from !== state.from || to !== state.to)) setRange(from, to);
  };
  $('from').addEventListener('change', onDate);
  $('to').addEventListener('change', onDate);
  $('range').addEventListener('submit', (e) => e.preventDefault());
  $('workspace').addEventListener('change', (e) => {
    state.ws = state.workspaces.find((w) => w.name === e.target.value) || state.workspaces[0];
    state.from = state.to = '';
    load();
  });
}

async function init() {
  bind();
  try {
    const [wsRes, colRes] = await Promise.all([getJSON('api/v1/workspaces'), getJSON('api/v1/report/columns')]);
    state.workspaces = wsRes.workspaces;
    state.columns = colRes.columns;
    if (state.workspaces.length === 0) throw new Error('This server has no workspace.');
    const q = new URLSearchParams(location.search);
    state.ws = state.workspaces.find((w) => w.name === q.get('workspace')) || state.workspaces[0];
    if (dates.isDate(q.get('from')) && dates.isDate(q.get('to'))) {
      state.from = q.get('from');
      state.to = q.get('to');
    }
    const sel = $('workspace');
    sel.replaceChildren(...state.workspaces.map((w) => new Option(w.name, w.name, false, w === state.ws)));
    $('workspace-field').hidden = state.workspaces.length < 2;
    await load();
  } catch (err) {
    showError(err);
  }
}

init();
