// The Sales view: GET /api/v1/sales as KPI tiles (win rate, sales cycle,
// average deal size, open and weighted pipeline, sales velocity, MQL
// follow-up), the win
// rate of each stage that open deals sit in, and the sales-cycle
// distribution. Every figure is the API's: an element with data-scope
// "sales", data-metric the JSON path of the figure and data-value its
// raw value.

import { getJSON, url } from './api.js';
import { format, isNum, raw } from './format.js';
import { range } from './dates.js';
import { daysText } from './funnels.js';
import { el } from './dom.js';

const $ = (id) => document.getElementById(id);

/** get returns the value at a dotted JSON path of res. */
function get(res, path) {
  return path.split('.').reduce((o, k) => (o == null ? null : o[k]), res);
}

/** show formats v for kind: count, percent, money, money_per_day or days. */
function show(kind, v, currency) {
  if (!isNum(v)) return '—';
  if (kind === 'days') return daysText(v);
  if (kind === 'money_per_day') return format('money', v, currency) + ' / day';
  return format(kind, v, currency);
}

/** fig returns a span holding one figure of res. */
function fig(res, path, kind, tag = 'span', cls = '') {
  const v = get(res, path);
  return el(tag, { class: cls + (isNum(v) ? '' : ' empty'), 'data-scope': 'sales', 'data-metric': path, 'data-value': raw(v) }, show(kind, v, res.currency));
}

/** note builds a tile's note from text, text functions of res and [path, kind] figures. */
function note(res, parts) {
  const p = el('p', { class: 'kpi-note' });
  for (const x of parts) {
    if (typeof x === 'function') p.append(x(res));
    else p.append(typeof x === 'string' ? x : fig(res, x[0], x[1]));
  }
  return p;
}

/** TILES are the tiles in order: label, hint, the figure and its note. */
const TILES = [
  { key: 'win_rate', label: 'Win rate', hint: 'Won ÷ (won + lost), deals closed in the period', kind: 'percent',
    note: [['won', 'count'], ' won · ', ['lost', 'count'], ' lost'] },
  { key: 'sales_cycle_days.median', label: 'Sales cycle (median)', hint: 'Days from created to won, deals won in the period', kind: 'days',
    note: ['p75 ', ['sales_cycle_days.p75', 'days'], ' · p90 ', ['sales_cycle_days.p90', 'days'], ' · mean ', ['sales_cycle_days.mean', 'days']] },
  { key: 'average_deal_size', label: 'Average deal size', hint: 'Won value ÷ deals won in the period', kind: 'money',
    note: [['won_value', 'money'], ' won in the period'] },
  { key: 'open_value', label: 'Open pipeline', hint: 'Amounts of the open deals created before the end of the period', kind: 'money',
    note: [['open', 'count'], (r) => (r.open === 1 ? ' open deal' : ' open deals')] },
  { key: 'weighted_value', label: 'Weighted pipeline', hint: "Each open deal's amount × the win rate of its stage", kind: 'money',
    note: ['open value × stage win rate'] },
  { key: 'velocity_per_day', label: 'Sales velocity', hint: 'Open deals × win rate × average deal size ÷ mean cycle days', kind: 'money_per_day',
    note: ['expected won value per day'] },
  { key: 'mql_follow_up.touched_within_1_day', label: 'MQLs touched within a day', hint: 'MQLs of the period with a sales call, e-mail or meeting within 24 hours ÷ MQLs at least a day before the end', kind: 'percent',
    note: [['mql_follow_up.touched', 'count'], ' of ', ['mql_follow_up.mqls', 'count'], ' MQLs touched · median ', ['mql_follow_up.time_to_first_touch_days.median', 'days']] },
];

function renderTiles(container, res) {
  container.replaceChildren(...TILES.map((t) => {
    const tile = el('article', { class: 'kpi', 'data-kpi': t.key });
    tile.append(el('h3', { class: 'kpi-label', title: t.hint }, t.label));
    const value = fig(res, t.key, t.kind, 'p', 'kpi-value');
    if (!isNum(get(res, t.key))) value.title = 'No value: no deal to measure in this period';
    tile.append(value, note(res, t.note));
    return tile;
  }));
}

/** cell returns a table cell with one figure. */
function cell(kind, v, currency, attrs) {
  return el('td', { class: 'num' + (isNum(v) ? '' : ' empty'), 'data-value': raw(v), ...attrs }, isNum(v) ? format(kind, v, currency) : '');
}

function renderStages(table, rows) {
  const head = el('tr');
  head.append(el('th', { scope: 'col', class: 'text' }, 'Stage'));
  for (const h of ['Open deals', 'Closed with stage', 'Won', 'Win rate']) head.append(el('th', { scope: 'col', class: 'num' }, h));
  const body = rows.map((r) => {
    const tr = el('tr', { 'data-stage': r.stage });
    tr.append(el('th', { scope: 'row', class: 'text' }, r.stage));
    const at = (m) => ({ 'data-scope': 'stage', 'data-stage': r.stage, 'data-metric': m });
    tr.append(cell('count', r.open, '', at('open')), cell('count', r.closed, '', at('closed')), cell('count', r.won, '', at('won')));
    const rate = cell('percent', r.rate, '', at('rate'));
    if (r.fallback) {
      rate.textContent += ' *';
      rate.title = 'No closed deal passed this stage: the overall win rate is used';
    }
    tr.append(rate);
    return tr;
  });
  if (rows.length === 0) {
    const tr = el('tr');
    tr.append(el('td', { colspan: '5', class: 'none' }, 'No open deals.'));
    body.push(tr);
  }
  table.replaceChildren(el('thead'), el('tbody'));
  table.tHead.append(head);
  table.tBodies[0].append(...body);
}

function renderCycle(table, q) {
  const head = el('tr');
  head.append(el('th', { scope: 'col', class: 'text' }, 'Days from created to won'), el('th', { scope: 'col', class: 'num' }, 'Deals'));
  const buckets = q.distribution || [];
  const body = buckets.map((b) => {
    const name = isNum(b.to_days) ? `${b.from_days}–${b.to_days} d` : `${b.from_days} d or more`;
    const tr = el('tr');
    tr.append(el('th', { scope: 'row', class: 'text' }, name));
    tr.append(cell('count', b.count, '', { 'data-scope': 'cycle', 'data-from': String(b.from_days), 'data-metric': 'count' }));
    return tr;
  });
  if (buckets.length === 0) {
    const tr = el('tr');
    tr.append(el('td', { colspan: '2', class: 'none' }, 'No deal won in this period.'));
    body.push(tr);
  }
  table.replaceChildren(el('thead'), el('tbody'));
  table.tHead.append(head);
  table.tBodies[0].append(...body);
}

/**
 * loadSales fetches and draws the Sales view for params (workspace, from,
 * to); it returns the range shown and the subtitle. current() says
 * whether this load is still wanted.
 */
export async function loadSales(params, current) {
  const res = await getJSON('api/v1/sales', params);
  if (!current()) return res;
  renderTiles($('sales-tiles'), res);
  const stages = res.stage_win_rates || [];
  renderStages($('sales-stages'), stages);
  $('sales-stages-sub').textContent = 'The stages open deals are in; each rate weights its deals in the pipeline' +
    (stages.some((r) => r.fallback) ? ' · * no closed deal passed the stage: the overall win rate' : '');
  renderCycle($('sales-cycle'), res.sales_cycle_days);
  $('sales-csv').href = url('api/v1/sales', { ...params, format: 'csv' }).href;
  return { from: res.from, to: res.to, subtitle: `Deals closed ${range(res.from, res.to)} · pipeline as of ${res.to} · ${res.currency}` };
}
