// KPI tiles: the period's totals with their change against the previous
// period of equal length.

import { format, isNum, raw, signedPercent, signedPoints } from './format.js';
import { range } from './dates.js';
import { el } from './dom.js';

/**
 * KPIS are the tiles in order. lowerIsBetter marks cost metrics, whose
 * rise is shown as bad.
 */
export const KPIS = [
  { key: 'cost', label: 'Spend', hint: 'Acquisition spend', lowerIsBetter: true },
  { key: 'leads', label: 'Leads', hint: 'People who became leads' },
  { key: 'cpl', label: 'CPL', hint: 'Cost per lead', lowerIsBetter: true },
  { key: 'new_customers', label: 'New customers', hint: 'Customers with a first payment' },
  { key: 'cac', label: 'CAC', hint: 'Customer acquisition cost', lowerIsBetter: true },
  { key: 'revenue', label: 'Revenue', hint: 'Revenue in the period' },
  { key: 'roas', label: 'ROAS', hint: 'Return on ad spend: revenue ÷ spend' },
  { key: 'romi', label: 'ROMI', hint: 'Return on marketing investment: (revenue − spend) ÷ spend' },
];

/** delta describes the change from prev to cur for a column kind. */
export function delta(kind, cur, prev, lowerIsBetter) {
  if (!isNum(cur) || !isNum(prev)) return { text: '—', dir: 'none', tone: 'flat', note: 'no previous value' };
  let change, text;
  if (kind === 'percent') {
    change = cur - prev; // percentage points
    text = signedPoints(change);
  } else if (prev === 0) {
    if (cur === 0) return { text: '0%', dir: 'flat', tone: 'flat' };
    return { text: 'new', dir: cur > 0 ? 'up' : 'down', tone: (cur > 0) !== !!lowerIsBetter ? 'good' : 'bad' };
  } else {
    change = (cur - prev) / Math.abs(prev);
    text = signedPercent(change);
  }
  if (Math.abs(change) < 0.0005) return { text, dir: 'flat', tone: 'flat' };
  const up = change > 0;
  return { text, dir: up ? 'up' : 'down', tone: up !== !!lowerIsBetter ? 'good' : 'bad' };
}

const ARROWS = { up: '▲', down: '▼', flat: '→', none: '' };

/** renderTiles fills container with one tile per KPI of report. */
export function renderTiles(container, report, columns, currency) {
  const kinds = new Map(columns.map((c) => [c.key, c.kind]));
  const prevRange = report.previous ? range(report.previous_from, report.previous_to) : '';
  const tiles = KPIS.map((k) => {
    const kind = kinds.get(k.key) || 'count';
    const cur = report.total[k.key];
    const prev = report.previous ? report.previous[k.key] : null;
    const tile = el('article', { class: 'kpi', 'data-kpi': k.key });
    tile.append(el('h3', { class: 'kpi-label', title: k.hint }, k.label));
    const value = el('p', {
      class: 'kpi-value' + (isNum(cur) ? '' : ' empty'),
      'data-scope': 'total',
      'data-metric': k.key,
      'data-value': raw(cur),
      'data-previous': raw(prev),
    }, isNum(cur) ? format(kind, cur, currency) : '—');
    if (!isNum(cur)) value.title = 'No value: the denominator is zero in this period';
    tile.append(value);
    if (report.previous) {
      const d = delta(kind, cur, prev, k.lowerIsBetter);
      const p = el('p', { class: `kpi-delta ${d.tone}`, 'data-delta': k.key, 'data-direction': d.dir });
      if (ARROWS[d.dir]) p.append(el('span', { class: 'arrow', 'aria-hidden': 'true' }, ARROWS[d.dir]));
      p.append(el('span', { class: 'change' }, d.text));
      p.append(el('span', { class: 'vs' }, isNum(prev) ? `vs ${format(kind, prev, currency)}` : 'vs previous period'));
      p.title = `Previous period ${prevRange}` + (d.note ? `: ${d.note}` : '');
      tile.append(p);
    }
    return tile;
  });
  container.replaceChildren(...tiles);
}
