// The Funnels view: the stage funnel of GET /api/v1/stages as a bar
// chart with step conversion, the per-step table (conversion, drop-off,
// median time) and the breakdown table. Every figure is the API's.

import { getJSON, url } from './api.js';
import { format, isNum, raw } from './format.js';
import { range } from './dates.js';
import { el, html } from './dom.js';

const $ = (id) => document.getElementById(id);
const BAR = '#635bff';

/** charts holds the ECharts instance of each funnel chart container. */
const charts = new Map();

/** daysText formats a duration in days: "3.2 d", "5 h" under a day. */
export function daysText(v) {
  if (!isNum(v)) return '';
  if (v < 1) return format('count', v * 24) + ' h';
  return new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 }).format(v) + ' d';
}

/** cell returns a figure cell with its data attributes. */
function cell(kind, v, attrs) {
  const text = kind === 'days' ? daysText(v) : format(kind, v);
  const td = el('td', { class: 'num' + (isNum(v) ? '' : ' empty'), 'data-value': raw(v), ...attrs }, text);
  if (!isNum(v)) td.title = 'No value: nobody reached the step before, or no one timed';
  return td;
}

/** STEP_COLUMNS are the step table's columns for the stage funnel. */
export const STEP_COLUMNS = [
  { key: 'count', label: 'Reached', kind: 'count', get: (s) => s.count },
  { key: 'step_conversion', label: 'From previous', kind: 'percent', get: (s) => s.step_conversion },
  { key: 'overall_conversion', label: 'From first', kind: 'percent', get: (s) => s.overall_conversion },
  { key: 'drop_off', label: 'Dropped', kind: 'count', get: (s) => s.drop_off },
  { key: 'median_days', label: 'Median time', kind: 'days', get: (s) => s.time_from_previous.median },
  { key: 'p90_days', label: 'p90 time', kind: 'days', get: (s) => s.time_from_previous.p90 },
  { key: 'median_days_from_first', label: 'Median from first', kind: 'days', get: (s) => s.time_from_first.median },
];

/**
 * renderSteps fills table with one row per step and one cell per column.
 * opts: what (the first header), key(step, i) (the data-step of its
 * cells) and label(step, i) (its row header).
 */
export function renderSteps(table, steps, columns, opts) {
  const head = el('tr');
  head.append(el('th', { scope: 'col', class: 'text' }, opts.what));
  for (const c of columns) head.append(el('th', { scope: 'col', class: 'num' }, c.label));
  const rows = steps.map((s, i) => {
    const key = opts.key(s, i);
    const tr = el('tr', { 'data-step': key });
    tr.append(el('th', { scope: 'row', class: 'text' }, `${i + 1}. ${opts.label(s, i)}`));
    for (const c of columns) {
      // The first step has no previous one: its conversions and times are empty.
      const v = i === 0 && c.key !== 'count' && c.key !== 'drop_off' ? null : c.get(s);
      tr.append(cell(c.kind, v, { 'data-scope': 'total', 'data-step': key, 'data-metric': c.key }));
    }
    return tr;
  });
  table.replaceChildren(el('thead'), el('tbody'));
  table.tHead.append(head);
  table.tBodies[0].append(...rows);
}

/**
 * renderGroups fills table with one row per group of res (a stage or
 * event funnel) and the count and conversion from the first step per
 * step; names are the column heads, stepKey(step, i) the data-step.
 */
export function renderGroups(table, res, names, stepKey) {
  const head = el('tr');
  head.append(el('th', { scope: 'col', class: 'text' }, res.by));
  names.forEach((name, i) => {
    head.append(el('th', { scope: 'col', class: 'num' }, name));
    if (i > 0) head.append(el('th', { scope: 'col', class: 'num' }, '%'));
  });
  const rows = res.groups.map((g) => {
    const key = g.key === '' ? '(none)' : g.key;
    const tr = el('tr', { 'data-group': g.key });
    tr.append(el('th', { scope: 'row', class: 'text' }, key));
    g.steps.forEach((s, i) => {
      const k = stepKey(s, i);
      tr.append(cell('count', s.count, { 'data-group': g.key, 'data-step': k, 'data-metric': 'count' }));
      if (i > 0) tr.append(cell('percent', s.overall_conversion, { 'data-group': g.key, 'data-step': k, 'data-metric': 'overall_conversion' }));
    });
    return tr;
  });
  table.replaceChildren(el('thead'), el('tbody'));
  table.tHead.append(head);
  table.tBodies[0].append(...rows);
}

/**
 * renderChart draws steps as bars labelled with the count, the step
 * conversion and the median time from the previous step; names are the
 * bars' labels and emptyText the note when nobody entered.
 */
export function renderChart(container, steps, names, emptyText) {
  if (!window.echarts) {
    container.textContent = 'The chart library did not load.';
    return;
  }
  let chart = charts.get(container);
  if (!chart) {
    chart = window.echarts.init(container, null, { renderer: 'svg' });
    charts.set(container, chart);
    new ResizeObserver(() => chart.resize()).observe(container);
  }
  const empty = steps.every((s) => !s.count);
  const labelOf = (i) => {
    const s = steps[i];
    const parts = [format('count', s.count)];
    if (i > 0 && isNum(s.step_conversion)) parts.push(format('percent', s.step_conversion) + ' of previous');
    if (i > 0 && isNum(s.time_from_previous.median)) parts.push('median ' + daysText(s.time_from_previous.median));
    return parts.join('\n');
  };
  chart.setOption({
    animationDuration: 300,
    textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
    grid: { left: 4, right: 12, top: 64, bottom: 10, containLabel: true },
    tooltip: {
      trigger: 'axis', axisPointer: { type: 'shadow', shadowStyle: { color: 'rgba(99, 91, 255, 0.06)' } },
      formatter: (ps) => [ps[0].name, ...labelOf(ps[0].dataIndex).split('\n')].map(html).join('<br>'),
      borderColor: '#e3e8ee', textStyle: { color: '#0a2540', fontSize: 13 },
    },
    xAxis: {
      type: 'category', data: names, axisTick: { show: false },
      axisLine: { lineStyle: { color: '#e3e8ee' } }, axisLabel: { color: '#425466', fontSize: 13 },
    },
    yAxis: {
      type: 'value', splitNumber: 4, minInterval: 1,
      axisLabel: { color: '#697386', fontSize: 12 }, splitLine: { lineStyle: { color: '#eef1f5' } },
    },
    graphic: empty ? [{
      type: 'text', left: 'center', top: 'middle', silent: true,
      style: { text: emptyText, fill: '#697386', fontSize: 14 },
    }] : [],
    series: [{
      name: 'Reached', type: 'bar', data: steps.map((s) => s.count), barMaxWidth: 96,
      itemStyle: { color: BAR, borderRadius: [4, 4, 0, 0] },
      label: { show: !empty, position: 'top', color: '#0a2540', fontSize: 12, lineHeight: 16, formatter: (p) => labelOf(p.dataIndex) },
    }],
  }, true);
}

/**
 * loadFunnels fetches and draws the stage funnel for params (workspace,
 * from, to) and opts (mode, by); it returns the range shown and the
 * subtitle. current() says whether this load is still wanted.
 */
export async function loadFunnels(params, opts, current) {
  const q = { ...params, mode: opts.mode, by: opts.by };
  const res = await getJSON('api/v1/stages', q);
  if (!current()) return res;
  const steps = res.total.steps;
  const modeText = res.mode === 'cohort'
    ? `cohort: ${res.entity === 'person' ? 'people' : res.entity + 's'} entering ${res.stages[0]} in the period`
    : 'period: arrivals at each stage in the period';
  $('funnel-sub').textContent = `${modeText} · median time from the previous stage`;
  const byName = (s) => s.name;
  renderChart($('funnel-chart'), steps, steps.map(byName), 'Nobody entered the first stage in this period');
  renderSteps($('funnel-steps'), steps, STEP_COLUMNS, { what: 'Stage', key: byName, label: byName });
  $('funnel-groups-card').hidden = !res.by;
  if (res.by) {
    $('funnel-groups-title').textContent = `By ${res.by}`;
    renderGroups($('funnel-groups'), res, res.stages, byName);
  } else {
    $('funnel-groups').replaceChildren();
  }
  $('funnel-csv').href = url('api/v1/stages', { ...q, format: 'csv' }).href;
  return { from: res.from, to: res.to, subtitle: `${range(res.from, res.to)} · ${res.stages.join(' → ')}` };
}
