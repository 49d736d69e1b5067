// The dashboard: workspace, date range and view in the URL. The
// Acquisition & ROI view (KPI tiles, the spend/revenue chart and the
// channel table, all from GET /api/v1/report) is drawn here; the other
// views by funnels.js, eventfunnel.js, sales.js, retention.js,
// activity.js, revenue.js, ltv.js, orders.js and attribution.js. No figure is computed here except the change against the
// previous period.

import { getJSON, url } from './api.js';
import * as dates from './dates.js';
import { renderTiles } from './tiles.js';
import { renderTable } from './table.js';
import { renderChart } from './chart.js';
import { loadFunnels } from './funnels.js';
import { loadRetention } from './retention.js';
import { bindBuilder, defaultSteps, loadEventFunnel, renderBuilder } from './eventfunnel.js';
import { loadSales } from './sales.js';
import { loadActivity } from './activity.js';
import { loadRevenue } from './revenue.js';
import { loadLTV } from './ltv.js';
import { loadOrders } from './orders.js';
import { loadAttribution } from './attribution.js';

/** VIEWS are the dashboard's views: the page title of each. */
const VIEWS = {
  roi: 'Acquisition & ROI', funnels: 'Funnels', 'event-funnel': 'Event funnel', sales: 'Sales', retention: 'Retention', activity: 'Activity',
  revenue: 'Revenue', ltv: 'LTV & payback', orders: 'Orders & renewals', attribution: 'Attribution',
};

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
  view: 'roi',
  // The options of the other views. Empty event funnel steps are the
  // workspace preset's defaults.
  funnel: { mode: 'cohort', by: 'channel' },
  eventFunnel: { steps: [], window: '14d', mode: 'ordered', by: '' },
  retention: { mode: 'on', grain: 'week' },
  activity: { grain: 'week' },
  // An empty revenue period is the last one of the range.
  revenue: { grain: 'month', by: 'plan', period: '' },
  ltv: { model: 'historical' },
  // Empty attribution options are the API's defaults.
  attribution: { model: 'linear', conversion: '', level: '', by: 'channel', lookback: '', dataset: '' },
};

/** LOADERS fetch and draw the views other than roi. */
const LOADERS = {
  funnels: (params, current) => loadFunnels(params, state.funnel, current),
  'event-funnel': (params, current) => loadEventFunnel(params, state.eventFunnel, current),
  sales: (params, current) => loadSales(params, current),
  retention: (params, current) => loadRetention(params, state.retention, current),
  activity: (params, current) => loadActivity(params, state.activity, current),
  revenue: (params, current) => loadRevenue(params, state.revenue, current),
  ltv: (params, current) => loadLTV(params, state.ltv, current),
  orders: (params, current) => loadOrders(params, current),
  attribution: (params, current) => loadAttribution(params, state.attribution, current),
};

/** viewParams are the view's own URL parameters. */
function viewParams() {
  switch (state.view) {
    case 'funnels':
      return { view: 'funnels', mode: state.funnel.mode, by: state.funnel.by || 'none' };
    case 'event-funnel': {
      const f = state.eventFunnel;
      return { view: 'event-funnel', step: f.steps, window: f.window, mode: f.mode, by: f.by || 'none' };
    }
    case 'retention':
      return { view: 'retention', mode: state.retention.mode, grain: state.retention.grain };
    case 'activity':
      return { view: 'activity', grain: state.activity.grain };
    case 'revenue': {
      const r = state.revenue;
      return { view: 'revenue', grain: r.grain, by: r.by, ...(r.period ? { period: r.period } : {}) };
    }
    case 'ltv':
      return { view: 'ltv', model: state.ltv.model };
    case 'attribution': {
      const a = state.attribution;
      const out = { view: 'attribution', model: a.model, by: a.by };
      for (const k of ['conversion', 'level', 'lookback', 'dataset']) if (a[k]) out[k] = a[k];
      return out;
    }
  }
  return state.view === 'roi' ? {} : { view: state.view };
}

/** showView shows the selected view and marks its tab. */
function showView() {
  for (const v of Object.keys(VIEWS)) {
    $('view-' + v).hidden = v !== state.view;
  }
  for (const a of document.querySelectorAll('.tab[data-view]')) {
    if (a.dataset.view === state.view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  $('title').textContent = VIEWS[state.view];
  document.title = VIEWS[state.view] + ' · bowtie';
  for (const b of document.querySelectorAll('[data-funnel-mode]')) b.setAttribute('aria-pressed', String(b.dataset.funnelMode === state.funnel.mode));
  for (const b of document.querySelectorAll('[data-retention-mode]')) b.setAttribute('aria-pressed', String(b.dataset.retentionMode === state.retention.mode));
  for (const b of document.querySelectorAll('[data-ef-mode]')) b.setAttribute('aria-pressed', String(b.dataset.efMode === state.eventFunnel.mode));
  $('funnel-by').value = state.funnel.by;
  $('ef-by').value = state.eventFunnel.by;
  $('ef-window').value = state.eventFunnel.window;
  $('retention-grain').value = state.retention.grain;
  $('activity-grain').value = state.activity.grain;
  $('revenue-grain').value = state.revenue.grain;
  $('revenue-by').value = state.revenue.by;
  for (const b of document.querySelectorAll('[data-ltv-model]')) b.setAttribute('aria-pressed', String(b.dataset.ltvModel === state.ltv.model));
}

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
  // The tabs keep the workspace and the dates.
  for (const a of document.querySelectorAll('.tab[data-view]')) {
    const t = new URLSearchParams(q);
    if (a.dataset.view !== 'roi') t.set('view', a.dataset.view);
    a.href = './' + (t.toString() ? '?' + t.toString() : '');
  }
  for (const [k, v] of Object.entries(viewParams())) {
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else q.set(k, v);
  }
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
  if (state.view !== 'roi') {
    try {
      const params = { workspace: ws.name, from: state.from, to: state.to };
      const current = () => seq === state.seq;
      if (state.view === 'event-funnel') {
        if (!state.eventFunnel.steps.length) state.eventFunnel.steps = defaultSteps(ws.preset);
        renderBuilder(state.eventFunnel.steps, ws.preset);
      }
      const shown = await LOADERS[state.view](params, current);
      if (!current()) return;
      state.from = shown.from;
      state.to = shown.to;
      syncControls();
      $('subtitle').textContent = shown.subtitle;
      footer(ws);
      $('main').setAttribute('aria-busy', 'false');
      document.body.dataset.state = 'ready';
    } catch (err) {
      if (seq === state.seq) showError(err);
    }
    return;
  }
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

    footer(ws);
    $('main').setAttribute('aria-busy', 'false');
    document.body.dataset.state = 'ready';
  } catch (err) {
    if (seq === state.seq) showError(err);
  }
}

function footer(ws) {
  const data = ws.data ? `data from ${dates.range(ws.data.from, ws.data.to)}` : 'no data yet';
  $('foot').textContent = `${ws.name} · ${ws.preset.toUpperCase()} · figures in ${ws.currency} · days cut in ${ws.time_zone} · ${data}`;
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
  for (const b of document.querySelectorAll('[data-funnel-mode]')) {
    b.addEventListener('click', () => {
      state.funnel.mode = b.dataset.funnelMode;
      showView();
      load();
    });
  }
  for (const b of document.querySelectorAll('[data-retention-mode]')) {
    b.addEventListener('click', () => {
      state.retention.mode = b.dataset.retentionMode;
      showView();
      load();
    });
  }
  $('funnel-by').addEventListener('change', (e) => {
    state.funnel.by = e.target.value;
    load();
  });
  $('retention-grain').addEventListener('change', (e) => {
    state.retention.grain = e.target.value;
    load();
  });
  for (const b of document.querySelectorAll('[data-ef-mode]')) {
    b.addEventListener('click', () => {
      state.eventFunnel.mode = b.dataset.efMode;
      showView();
      load();
    });
  }
  $('ef-by').addEventListener('change', (e) => {
    state.eventFunnel.by = e.target.value;
    load();
  });
  $('ef-window').addEventListener('change', (e) => {
    state.eventFunnel.window = e.target.value.trim();
    load();
  });
  bindBuilder((steps) => {
    state.eventFunnel.steps = steps;
    state.eventFunnel.window = $('ef-window').value.trim();
    load();
  });
  $('activity-grain').addEventListener('change', (e) => {
    state.activity.grain = e.target.value;
    load();
  });
  $('revenue-grain').addEventListener('change', (e) => {
    state.revenue.grain = e.target.value;
    state.revenue.period = '';
    load();
  });
  $('revenue-by').addEventListener('change', (e) => {
    state.revenue.by = e.target.value;
    load();
  });
  $('revenue-period').addEventListener('change', (e) => {
    state.revenue.period = e.target.value;
    load();
  });
  for (const b of document.querySelectorAll('[data-ltv-model]')) {
    b.addEventListener('click', () => {
      state.ltv.model = b.dataset.ltvModel;
      showView();
      load();
    });
  }
  for (const [id, key] of [['attr-model', 'model'], ['attr-level', 'level'], ['attr-by', 'by'], ['attr-conversion', 'conversion'], ['attr-lookback', 'lookback']]) {
    $(id).addEventListener('change', (e) => {
      state.attribution[key] = e.target.value.trim();
      load();
    });
  }
  $('workspace').addEventListener('change', (e) => {
    state.ws = state.workspaces.find((w) => w.name === e.target.value) || state.workspaces[0];
    state.from = state.to = '';
    state.eventFunnel.steps = []; // the new workspace's events differ
    state.attribution.conversion = state.attribution.level = state.attribution.dataset = ''; // and so do its conversions
    load();
  });
}

/** readView takes the view and its options from the URL. */
function readView(q) {
  const view = q.get('view');
  state.view = Object.hasOwn(VIEWS, view || '') ? view : 'roi';
  const pick = (v, allowed, dflt) => (allowed.includes(v) ? v : dflt);
  if (state.view === 'funnels') {
    state.funnel.mode = pick(q.get('mode'), ['cohort', 'period'], 'cohort');
    const by = q.get('by');
    state.funnel.by = by === 'none' ? '' : pick(by, ['channel', 'source', 'campaign'], 'channel');
  } else if (state.view === 'event-funnel') {
    // Steps and window go to the API as given: its error names a bad one.
    state.eventFunnel.steps = q.getAll('step').map((s) => s.trim()).filter((s) => s !== '');
    state.eventFunnel.window = q.get('window') ?? '14d';
    state.eventFunnel.mode = pick(q.get('mode'), ['ordered', 'strict', 'any'], 'ordered');
    const by = q.get('by');
    state.eventFunnel.by = pick(by, ['channel', 'source', 'campaign'], '');
  } else if (state.view === 'retention') {
    state.retention.mode = pick(q.get('mode'), ['on', 'on_or_after'], 'on');
    state.retention.grain = pick(q.get('grain'), ['day', 'week', 'month'], 'week');
  } else if (state.view === 'activity') {
    state.activity.grain = pick(q.get('grain'), ['day', 'week', 'month'], 'week');
  } else if (state.view === 'revenue') {
    state.revenue.grain = pick(q.get('grain'), ['week', 'month'], 'month');
    state.revenue.by = pick(q.get('by'), ['plan', 'channel', 'segment', 'cohort'], 'plan');
    const p = q.get('period');
    state.revenue.period = dates.isDate(p) ? p : '';
  } else if (state.view === 'ltv') {
    state.ltv.model = pick(q.get('model'), ['historical', 'formula', 'sbg', 'bgnbd'], 'historical');
  } else if (state.view === 'attribution') {
    // Conversion and lookback go to the API as given: its error names a bad one.
    const a = state.attribution;
    a.model = q.get('model') || 'linear';
    a.by = pick(q.get('by'), ['channel', 'campaign'], 'channel');
    a.level = pick(q.get('level'), ['person', 'account'], '');
    a.conversion = (q.get('conversion') || '').trim();
    a.lookback = (q.get('lookback') || '').trim();
    a.dataset = (q.get('dataset') || '').trim(); // an imported paths dataset (no control: from the URL)
  }
}

async function init() {
  readView(new URLSearchParams(location.search));
  showView();
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
