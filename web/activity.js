// The Activity view: GET /api/v1/activity as tiles (average DAU and MAU,
// stickiness), DAU, WAU, MAU and DAU/MAU per day as a line chart, and the
// lifecycle per interval (new, returning, resurrecting active people and
// the dormant ones, shown below zero) as a stacked bar chart with its
// table. Every figure is the API's.

import { getJSON, url } from './api.js';
import { format, isNum, raw } from './format.js';
import { label, range } from './dates.js';
import { el } from './dom.js';

const $ = (id) => document.getElementById(id);
const LINES = [
  { key: 'dau', name: 'DAU', color: '#635bff' },
  { key: 'wau', name: 'WAU', color: '#00a3d9' },
  { key: 'mau', name: 'MAU', color: '#0a2540' },
];
const LIFECYCLE = [
  { key: 'new', name: 'New', color: '#0e9f6e', hint: 'Active for the first time' },
  { key: 'returning', name: 'Returning', color: '#635bff', hint: 'Active in this and the previous interval' },
  { key: 'resurrecting', name: 'Resurrecting', color: '#f5a623', hint: 'Active again after at least one inactive interval' },
  { key: 'dormant', name: 'Dormant', color: '#e25950', hint: 'Active in the previous interval, not in this one' },
];
const GRAIN = { day: 'Day', week: 'Week of', month: 'Month' };

const charts = new Map();

function chartFor(container) {
  let c = charts.get(container);
  if (!c) {
    c = window.echarts.init(container, null, { renderer: 'svg' });
    charts.set(container, c);
    new ResizeObserver(() => c.resize()).observe(container);
  }
  return c;
}

const BASE = () => ({
  animationDuration: 300,
  textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
  legend: { top: 0, left: 0, icon: 'roundRect', itemWidth: 12, itemHeight: 12, itemGap: 20, textStyle: { color: '#425466', fontSize: 13 } },
  tooltip: { trigger: 'axis', borderColor: '#e3e8ee', textStyle: { color: '#0a2540', fontSize: 13 } },
});

const axisX = (data) => ({
  type: 'category', data, axisTick: { show: false },
  axisLine: { lineStyle: { color: '#e3e8ee' } }, axisLabel: { color: '#697386', fontSize: 12, hideOverlap: true },
});

const empty = (text) => [{ type: 'text', left: 'center', top: 'middle', silent: true, style: { text, fill: '#697386', fontSize: 14 } }];

function renderTiles(container, res) {
  const tiles = [
    ['average_dau', 'Average DAU', 'count', 'People active on a day, averaged over the days', `over ${res.days.length} days`],
    ['average_mau', 'Average MAU', 'count', 'People active in the 30 days up to a day, averaged', 'trailing 30 days'],
    ['stickiness', 'Stickiness', 'percent', 'Average DAU ÷ average MAU', 'DAU ÷ MAU'],
  ].map(([key, name, kind, hint, sub]) => {
    const v = res[key];
    const tile = el('article', { class: 'kpi', 'data-kpi': key });
    tile.append(el('h3', { class: 'kpi-label', title: hint }, name));
    tile.append(el('p', { class: 'kpi-value' + (isNum(v) ? '' : ' empty'), 'data-scope': 'activity', 'data-metric': key, 'data-value': raw(v) },
      isNum(v) ? format(kind === 'count' && v < 100 ? 'number' : kind, v) : '—'));
    tile.append(el('p', { class: 'kpi-note' }, sub));
    return tile;
  });
  container.replaceChildren(...tiles);
}

/** fillTable fills table with head (labels) and rows of [header, cells]. */
function fillTable(table, head, rows) {
  const hr = el('tr');
  head.forEach((h, i) => hr.append(el('th', { scope: 'col', class: i ? 'num' : 'text' }, h)));
  table.replaceChildren(...(table.caption ? [table.caption] : []), el('thead'), el('tbody'));
  table.tHead.append(hr);
  table.tBodies[0].append(...rows.map(([th, cells]) => {
    const tr = el('tr');
    tr.append(el('th', { scope: 'row', class: 'text' }, th), ...cells);
    return tr;
  }));
}

function cell(kind, v, attrs) {
  return el('td', { class: 'num' + (isNum(v) ? '' : ' empty'), 'data-value': raw(v), ...attrs }, format(kind, v));
}

function renderDays(container, table, days) {
  fillTable(table, ['Day', 'DAU', 'WAU', 'MAU', 'DAU/MAU'], days.map((d) => [d.date, [
    ...LINES.map((l) => cell('count', d[l.key], { 'data-date': d.date, 'data-metric': l.key })),
    cell('percent', d.stickiness, { 'data-date': d.date, 'data-metric': 'stickiness' }),
  ]]));
  if (!window.echarts) {
    container.textContent = 'The chart library did not load.';
    return;
  }
  const none = days.every((d) => !d.mau);
  chartFor(container).setOption({
    ...BASE(),
    grid: { left: 4, right: 4, top: 44, bottom: 4, containLabel: true },
    xAxis: { ...axisX(days.map((d) => label(d.date, 'day'))), boundaryGap: false },
    yAxis: [
      { type: 'value', splitNumber: 4, minInterval: 1, axisLabel: { color: '#697386', fontSize: 12 }, splitLine: { lineStyle: { color: '#eef1f5' } } },
      { type: 'value', min: 0, max: 100, interval: 25, axisLabel: { color: '#697386', fontSize: 12, formatter: '{value} %' }, splitLine: { show: false } },
    ],
    graphic: none ? empty('Nobody was active in this period') : [],
    series: [
      ...LINES.map((l) => ({
        name: l.name, type: 'line', data: days.map((d) => d[l.key]), showSymbol: false,
        lineStyle: { width: 2, color: l.color }, itemStyle: { color: l.color },
        tooltip: { valueFormatter: (v) => format('count', v) },
      })),
      {
        name: 'DAU/MAU', type: 'line', yAxisIndex: 1, showSymbol: false,
        data: days.map((d) => (isNum(d.stickiness) ? Math.round(d.stickiness * 1000) / 10 : null)),
        lineStyle: { width: 2, type: 'dashed', color: '#0e9f6e' }, itemStyle: { color: '#0e9f6e' },
        tooltip: { valueFormatter: (v) => (isNum(v) ? v + ' %' : '—') },
      },
    ],
  }, true);
}

function renderLifecycle(container, table, periods, grain) {
  fillTable(table, [GRAIN[grain] || 'Period', 'Active', ...LIFECYCLE.map((l) => l.name)], periods.map((p) => [p.period,
    ['active', ...LIFECYCLE.map((l) => l.key)].map((k) => cell('count', p[k], { 'data-period': p.period, 'data-metric': k }))]));
  if (!window.echarts) {
    container.textContent = 'The chart library did not load.';
    return;
  }
  const none = periods.every((p) => !p.active && !p.dormant);
  chartFor(container).setOption({
    ...BASE(),
    grid: { left: 4, right: 12, top: 44, bottom: 4, containLabel: true },
    tooltip: {
      trigger: 'axis', axisPointer: { type: 'shadow', shadowStyle: { color: 'rgba(99, 91, 255, 0.06)' } },
      borderColor: '#e3e8ee', textStyle: { color: '#0a2540', fontSize: 13 }, valueFormatter: (v) => format('count', Math.abs(v)),
    },
    xAxis: axisX(periods.map((p) => label(p.period, grain === 'month' ? 'month' : 'day'))),
    yAxis: { type: 'value', splitNumber: 4, minInterval: 1, axisLabel: { color: '#697386', fontSize: 12, formatter: (v) => format('count', Math.abs(v)) }, splitLine: { lineStyle: { color: '#eef1f5' } } },
    graphic: none ? empty('Nobody was active in this period') : [],
    series: LIFECYCLE.map((l) => ({
      // One stack: ECharts stacks the negative (dormant) values apart, below zero.
      name: l.name, type: 'bar', stack: 'lifecycle', barMaxWidth: 40,
      data: periods.map((p) => (l.key === 'dormant' ? -p[l.key] : p[l.key])), itemStyle: { color: l.color },
    })),
  }, true);
}

/**
 * loadActivity fetches and draws the Activity view for params
 * (workspace, from, to) and opts (grain); it returns the range shown and
 * the subtitle. current() says whether this load is still wanted.
 */
export async function loadActivity(params, opts, current) {
  const q = { ...params, grain: opts.grain };
  const res = await getJSON('api/v1/activity', q);
  if (!current()) return res;
  const ev = res.event ? `doing ${res.event}` : 'with any event';
  renderTiles($('activity-tiles'), res);
  $('activity-sub').textContent = `People ${ev} on the day (DAU), in the 7 (WAU) or 30 days (MAU) up to it · DAU/MAU on the right axis`;
  renderDays($('activity-chart'), $('activity-data'), res.days);
  $('lifecycle-sub').textContent = `Per ${res.grain}: active people by whether they are new, returning or resurrecting; dormant below zero`;
  renderLifecycle($('lifecycle-chart'), $('lifecycle-table'), res.lifecycle || [], res.grain);
  $('activity-csv').href = url('api/v1/activity', { ...q, format: 'csv' }).href;
  $('lifecycle-csv').href = url('api/v1/activity', { ...q, lifecycle: 'true', format: 'csv' }).href;
  return { from: res.from, to: res.to, subtitle: `${range(res.from, res.to)} · ${res.time_zone}` };
}
