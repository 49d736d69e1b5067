// The channel table: every column of the report, sortable, with a total row.

import { format, isNum, raw } from './format.js';
import { el } from './dom.js';

/** sortRows returns rows sorted by key; missing values always last. */
export function sortRows(rows, key, dir) {
  const sign = dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    if (key === 'channel') return sign * String(a.channel).localeCompare(String(b.channel));
    const x = a[key], y = b[key];
    if (!isNum(x) && !isNum(y)) return String(a.channel).localeCompare(String(b.channel));
    if (!isNum(x)) return 1;
    if (!isNum(y)) return -1;
    return sign * (x - y) || String(a.channel).localeCompare(String(b.channel));
  });
}

function cell(kind, v, currency, attrs) {
  const td = el('td', { class: 'num' + (isNum(v) ? '' : ' empty'), 'data-value': raw(v), ...attrs }, format(kind, v, currency));
  if (!isNum(v)) td.title = 'No value: the denominator is zero';
  return td;
}

/**
 * renderTable fills table with report.rows (broken down by channel).
 * sort is {key, dir}; onSort(key) is called when a header is clicked.
 */
export function renderTable(table, report, columns, currency, sort, onSort) {
  const head = el('thead');
  const hr = el('tr');
  const all = [{ key: 'channel', label: 'Channel', kind: 'text' }, ...columns];
  for (const c of all) {
    const th = el('th', { scope: 'col', class: c.kind === 'text' ? 'text' : 'num' });
    const active = sort.key === c.key;
    th.setAttribute('aria-sort', active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none');
    const b = el('button', { type: 'button', 'data-sort': c.key }, c.label);
    if (active) b.append(el('span', { class: 'sort', 'aria-hidden': 'true' }, sort.dir === 'asc' ? '↑' : '↓'));
    b.title = `Sort by ${c.label}`;
    b.addEventListener('click', () => onSort(c.key));
    th.append(b);
    hr.append(th);
  }
  head.append(hr);

  const body = el('tbody');
  const rows = sortRows(report.rows || [], sort.key, sort.dir);
  for (const r of rows) {
    const tr = el('tr', { 'data-channel': r.channel });
    tr.append(el('th', { scope: 'row', class: 'text' }, r.channel));
    for (const c of columns) tr.append(cell(c.kind, r[c.key], currency, { 'data-channel': r.channel, 'data-metric': c.key }));
    body.append(tr);
  }
  if (rows.length === 0) {
    const tr = el('tr');
    tr.append(el('td', { colspan: String(all.length), class: 'none' }, 'No spend, leads or revenue in this period.'));
    body.append(tr);
  }

  const foot = el('tfoot');
  const fr = el('tr');
  fr.append(el('th', { scope: 'row', class: 'text' }, 'Total'));
  for (const c of columns) fr.append(cell(c.kind, report.total[c.key], currency, { 'data-scope': 'table-total', 'data-metric': c.key }));
  foot.append(fr);

  table.replaceChildren(head, body, foot);
}
