// Figure helpers of the revenue, lifetime-value and orders views: a KPI
// tile or a table cell holding one figure of an API answer, marked with
// data-scope, data-metric (the JSON path) and data-value (the raw value)
// for screen readers and tests. A null figure (its denominator is zero)
// shows "—", never 0.

import { format, isNum, raw } from './format.js';
import { el } from './dom.js';

/** get returns the value at a dotted JSON path of v. */
export function get(v, path) {
  return path.split('.').reduce((o, k) => (o == null ? null : o[k]), v);
}

/**
 * show formats v for kind: count, number, money, percent, ratio, months,
 * days or signed_percent; '—' when v is not a number.
 */
export function show(kind, v, currency) {
  if (!isNum(v)) return '—';
  switch (kind) {
    case 'number':
      return format('number', v);
    case 'months':
      return format('number', Math.round(v * 10) / 10) + (Math.abs(v - 1) < 0.05 ? ' month' : ' months');
    case 'days':
      return format('number', Math.round(v * 10) / 10) + ' d';
    case 'signed_percent':
      return (v > 0 ? '+' : '') + format('percent', v);
  }
  return format(kind, v, currency);
}

/** figure returns an element showing value v of path in scope. */
export function figure(tag, cls, scope, path, v, kind, currency, attrs = {}) {
  // A table's .empty cell hides its text: a null cell is .null, its "—" grey.
  const e = el(tag, { class: cls + (isNum(v) ? '' : tag === 'td' ? ' null' : ' empty'), 'data-scope': scope, 'data-metric': path, 'data-value': raw(v), ...attrs }, show(kind, v, currency));
  if (!isNum(v)) e.title = 'No value: the denominator is zero';
  return e;
}

/**
 * tile returns a KPI tile: label (hint as its title), the figure and a
 * note (text, or an array of text and elements).
 */
export function tile(key, label, hint, scope, path, v, kind, currency, note) {
  const t = el('article', { class: 'kpi', 'data-kpi': key });
  t.append(el('h3', { class: 'kpi-label', title: hint }, label));
  t.append(figure('p', 'kpi-value', scope, path, v, kind, currency));
  if (note !== undefined) {
    const p = el('p', { class: 'kpi-note' });
    for (const x of Array.isArray(note) ? note : [note]) p.append(x);
    t.append(p);
  }
  return t;
}

/** cell returns a table cell with one figure. */
export function cell(scope, path, v, kind, currency, attrs = {}) {
  return figure('td', 'num', scope, path, v, kind, currency, attrs);
}

/** fillTable fills table with head labels and rows of [header, cells]; foot likewise. */
export function fillTable(table, head, rows, foot, empty) {
  const hr = el('tr');
  head.forEach((h, i) => hr.append(el('th', { scope: 'col', class: i ? 'num' : 'text' }, h)));
  const tr = ([th, cells, attrs]) => {
    const r = el('tr', attrs || {});
    r.append(el('th', { scope: 'row', class: 'text' }, th), ...cells);
    return r;
  };
  const parts = [el('thead'), el('tbody')];
  parts[0].append(hr);
  parts[1].append(...rows.map(tr));
  if (rows.length === 0 && empty) {
    const r = el('tr');
    r.append(el('td', { colspan: String(head.length), class: 'none' }, empty));
    parts[1].append(r);
  }
  if (foot) {
    const f = el('tfoot');
    f.append(tr(foot));
    parts.push(f);
  }
  table.replaceChildren(...(table.caption ? [table.caption] : []), ...parts);
}

const charts = new Map();

/** chartFor returns the ECharts instance of container, made on first use. */
export function chartFor(container) {
  let c = charts.get(container);
  if (!c) {
    c = window.echarts.init(container, null, { renderer: 'svg' });
    charts.set(container, c);
    new ResizeObserver(() => c.resize()).observe(container);
  }
  return c;
}

/** BASE are the chart options every view shares. */
export const BASE = () => ({
  animationDuration: 300,
  textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
  legend: { top: 0, left: 0, icon: 'roundRect', itemWidth: 12, itemHeight: 12, itemGap: 20, textStyle: { color: '#425466', fontSize: 13 } },
  tooltip: { trigger: 'axis', borderColor: '#e3e8ee', textStyle: { color: '#0a2540', fontSize: 13 } },
});

/** axisX is a category axis over data. */
export const axisX = (data) => ({
  type: 'category', data, axisTick: { show: false },
  axisLine: { lineStyle: { color: '#e3e8ee' } }, axisLabel: { color: '#697386', fontSize: 12, hideOverlap: true },
});

/** axisY is a value axis with formatter fmt. */
export const axisY = (fmt, extra = {}) => ({
  type: 'value', splitNumber: 4, axisLabel: { color: '#697386', fontSize: 12, formatter: fmt }, splitLine: { lineStyle: { color: '#eef1f5' } }, ...extra,
});

/** emptyText is the chart overlay saying there is nothing to draw. */
export const emptyText = (text) => [{ type: 'text', left: 'center', top: 'middle', silent: true, style: { text, fill: '#697386', fontSize: 14 } }];

/** noChart reports (and says in container) that ECharts did not load. */
export function noChart(container) {
  if (window.echarts) return false;
  container.textContent = 'The chart library did not load.';
  return true;
}
