// The Revenue view: GET /api/v1/revenue (MRR movements per period, with
// a breakdown) and GET /api/v1/revenue/retention (monthly GRR and NRR,
// trailing 12 months too). For the selected period: KPI tiles, the
// movement waterfall (opening → new, expansion, reactivation,
// contraction, churn → closing) and the movements by plan, channel,
// segment or cohort; for every period: the movements stacked with the
// closing MRR and the NRR/GRR trend. Every figure is the API's.

import { getJSON, url } from './api.js';
import { format, isNum } from './format.js';
import { label, range } from './dates.js';
import { el, html } from './dom.js';
import { BASE, axisX, axisY, cell, chartFor, emptyText, fillTable, noChart, tile } from './figure.js';

const $ = (id) => document.getElementById(id);

/** STEPS are the waterfall's movements: sign +1 adds to MRR, −1 takes from it. */
const STEPS = [
  { key: 'new_mrr', name: 'New', sign: 1, color: '#0e9f6e' },
  { key: 'expansion_mrr', name: 'Expansion', sign: 1, color: '#635bff' },
  { key: 'reactivation_mrr', name: 'Reactivation', sign: 1, color: '#00a3d9' },
  { key: 'contraction_mrr', name: 'Contraction', sign: -1, color: '#f5a623' },
  { key: 'churned_mrr', name: 'Churn', sign: -1, color: '#e25950' },
];
const BY = { plan: 'plan', channel: 'channel', segment: 'segment', cohort: 'acquisition cohort' };

function renderTiles(container, p, res, ret) {
  const c = res.currency;
  const t = ret ? ret.periods.find((x) => x.period === p.period) : null;
  const t12 = (k) => (t && isNum(t[k]) ? ` · trailing 12 months ${format('percent', t[k])}` : '');
  container.replaceChildren(
    tile('closing_mrr', 'MRR', 'Monthly recurring revenue at the end of the period, every billing interval normalised to a month', 'period', 'closing_mrr', p.closing_mrr, 'money', c,
      `${format('count', p.closing_customers)} paying customers`),
    tile('closing_arr', 'ARR', '12 × MRR at the end of the period', 'period', 'closing_arr', p.closing_arr, 'money', c, 'closing MRR × 12'),
    tile('net_new_mrr', 'Net new MRR', 'Closing − opening MRR: new + expansion + reactivation − contraction − churn', 'period', 'net_new_mrr', p.net_new_mrr, 'money', c,
      `from ${format('money', p.opening_mrr, c)}`),
    tile('nrr', 'NRR', 'Net revenue retention: (opening − churn − contraction + expansion) ÷ opening MRR', 'period', 'nrr', p.nrr, 'percent', c, 'of the opening MRR' + t12('nrr_t12m')),
    tile('grr', 'GRR', 'Gross revenue retention: (opening − churn − contraction) ÷ opening MRR', 'period', 'grr', p.grr, 'percent', c, 'of the opening MRR' + t12('grr_t12m')),
    tile('logo_churn', 'Logo churn', 'Customers churned in the period ÷ customers at its start', 'period', 'logo_churn', p.logo_churn, 'percent', c,
      `${format('count', p.churned_customers)} of ${format('count', p.opening_customers)} customers`),
    tile('quick_ratio', 'Quick ratio', '(New + expansion + reactivation) ÷ (contraction + churn)', 'period', 'quick_ratio', p.quick_ratio, 'number', c, 'MRR gained per unit lost'),
    tile('arpa', 'ARPA', 'Closing MRR ÷ closing customers', 'period', 'arpa', p.arpa, 'money', c, 'MRR per paying customer'),
  );
}

function renderWaterfall(container, table, p, currency, grain) {
  const money = (v) => format('money', v, currency);
  // Each bar floats on an invisible base: a gain starts where MRR stood,
  // a loss ends where it went.
  const bars = [{ name: 'Opening MRR', key: 'opening_mrr', base: 0, value: p.opening_mrr, color: '#0a2540', shown: p.opening_mrr }];
  let level = p.opening_mrr;
  for (const s of STEPS) {
    const v = p[s.key];
    const next = level + s.sign * v;
    bars.push({ name: s.name, key: s.key, base: Math.min(level, next), value: v, color: s.color, shown: s.sign * v });
    level = next;
  }
  bars.push({ name: 'Closing MRR', key: 'closing_mrr', base: 0, value: p.closing_mrr, color: '#0a2540', shown: p.closing_mrr });

  fillTable(table, ['Movement', 'MRR'], bars.map((b) => [b.name, [
    cell('waterfall', b.key, b.shown, 'money', currency, { 'data-period': p.period }),
  ]]));
  if (noChart(container)) return;
  const none = bars.every((b) => !b.value);
  chartFor(container).setOption({
    ...BASE(),
    legend: { show: false },
    grid: { left: 4, right: 12, top: 28, bottom: 4, containLabel: true },
    tooltip: {
      trigger: 'axis', axisPointer: { type: 'shadow', shadowStyle: { color: 'rgba(99, 91, 255, 0.06)' } },
      borderColor: '#e3e8ee', textStyle: { color: '#0a2540', fontSize: 13 },
      formatter: (ps) => {
        const b = bars[ps[0].dataIndex];
        const sign = b.key === 'opening_mrr' || b.key === 'closing_mrr' ? '' : b.shown < 0 ? '−' : '+';
        return html(`${b.name}, ${label(p.period, grain === 'month' ? 'month' : 'day')}`) + '<br>' + html(sign + money(Math.abs(b.shown)));
      },
    },
    xAxis: axisX(bars.map((b) => b.name)),
    yAxis: axisY((v) => format('money', v, currency, { compact: true })),
    graphic: none ? emptyText('No MRR in this period') : [],
    series: [
      { name: 'base', type: 'bar', stack: 'w', silent: true, itemStyle: { color: 'transparent' }, emphasis: { disabled: true }, data: bars.map((b) => b.base) },
      {
        name: 'MRR', type: 'bar', stack: 'w', barMaxWidth: 56,
        data: bars.map((b) => ({ value: b.value, itemStyle: { color: b.color, borderRadius: 3 } })),
        label: {
          show: true, position: 'top', color: '#425466', fontSize: 12,
          formatter: (x) => {
            const b = bars[x.dataIndex];
            const sign = b.key === 'opening_mrr' || b.key === 'closing_mrr' ? '' : b.shown < 0 ? '−' : '+';
            return sign + format('money', Math.abs(b.shown), currency, { compact: true });
          },
        },
      },
    ],
  }, true);
}

function renderTrend(container, table, res, grain, selected, onPick) {
  const c = res.currency;
  const ps = res.periods;
  const cols = [['opening_mrr', 'Opening'], ...STEPS.map((s) => [s.key, s.name]), ['closing_mrr', 'Closing'], ['net_new_mrr', 'Net new'],
    ['closing_customers', 'Customers', 'count'], ['arpa', 'ARPA'], ['quick_ratio', 'Quick ratio', 'number'], ['logo_churn', 'Logo churn', 'percent'],
    ['grr', 'GRR', 'percent'], ['nrr', 'NRR', 'percent']];
  fillTable(table, [grain === 'month' ? 'Month' : 'Week of', ...cols.map((x) => x[1])], ps.map((p) => [p.period,
    cols.map(([k, , kind]) => cell('periods', k, p[k], kind || 'money', c, { 'data-period': p.period })),
    { 'data-period': p.period, ...(p.period === selected ? { 'aria-current': 'true' } : {}) }]));
  if (noChart(container)) return;
  const chart = chartFor(container);
  const none = ps.every((p) => !p.closing_mrr && !p.opening_mrr);
  chart.setOption({
    ...BASE(),
    grid: { left: 4, right: 4, top: 44, bottom: 4, containLabel: true },
    tooltip: {
      trigger: 'axis', axisPointer: { type: 'shadow', shadowStyle: { color: 'rgba(99, 91, 255, 0.06)' } },
      borderColor: '#e3e8ee', textStyle: { color: '#0a2540', fontSize: 13 }, valueFormatter: (v) => format('money', v, c),
    },
    xAxis: axisX(ps.map((p) => label(p.period, grain === 'month' ? 'month' : 'day'))),
    yAxis: [
      axisY((v) => format('money', v, c, { compact: true })),
      axisY((v) => format('money', v, c, { compact: true }), { splitLine: { show: false } }),
    ],
    graphic: none ? emptyText('No MRR in this period') : [],
    series: [
      // One stack: ECharts stacks the losses apart, below zero.
      ...STEPS.map((s) => ({
        name: s.name, type: 'bar', stack: 'moves', barMaxWidth: 32, itemStyle: { color: s.color },
        data: ps.map((p) => s.sign * p[s.key]),
      })),
      {
        name: 'Closing MRR (right axis)', type: 'line', yAxisIndex: 1, data: ps.map((p) => p.closing_mrr),
        symbol: 'circle', symbolSize: 6, showSymbol: ps.length <= 26, lineStyle: { width: 2.5, color: '#0a2540' }, itemStyle: { color: '#0a2540' },
      },
    ],
  }, true);
  chart.off('click');
  chart.on('click', (e) => onPick(ps[e.dataIndex].period));
}

function renderRetention(container, ret) {
  if (noChart(container)) return;
  const ps = ret ? ret.periods : [];
  const pct = (v) => (isNum(v) ? Math.round(v * 1000) / 10 : null);
  const line = (name, key, color, dashed) => ({
    name, type: 'line', data: ps.map((p) => pct(p[key])), connectNulls: false, symbol: 'circle', symbolSize: 5, showSymbol: ps.length <= 26,
    lineStyle: { width: 2, color, type: dashed ? 'dashed' : 'solid' }, itemStyle: { color },
  });
  chartFor(container).setOption({
    ...BASE(),
    tooltip: { trigger: 'axis', borderColor: '#e3e8ee', textStyle: { color: '#0a2540', fontSize: 13 }, valueFormatter: (v) => (isNum(v) ? v + ' %' : '—') },
    grid: { left: 4, right: 12, top: 44, bottom: 4, containLabel: true },
    xAxis: axisX(ps.map((p) => label(p.period, 'month'))),
    yAxis: axisY('{value} %', { scale: true }),
    graphic: ps.some((p) => isNum(p.nrr)) ? [] : emptyText('No opening MRR in these months'),
    series: [
      line('NRR', 'nrr', '#635bff'), line('GRR', 'grr', '#0e9f6e'),
      line('NRR, trailing 12 months', 'nrr_t12m', '#635bff', true), line('GRR, trailing 12 months', 'grr_t12m', '#0e9f6e', true),
    ],
  }, true);
}

function renderGroups(table, res, p) {
  const c = res.currency;
  const rows = (res.groups || []).filter((g) => g.period === p.period);
  const cols = [['opening_mrr', 'Opening'], ...STEPS.map((s) => [s.key, s.name]), ['closing_mrr', 'Closing'], ['net_new_mrr', 'Net new'],
    ['closing_customers', 'Customers', 'count'], ['grr', 'GRR', 'percent'], ['nrr', 'NRR', 'percent']];
  const cells = (r, scope) => cols.map(([k, , kind]) => cell(scope, k, r[k], kind || 'money', c, scope === 'group' ? { 'data-group': r.group } : {}));
  fillTable(table, [BY[res.by] ? BY[res.by][0].toUpperCase() + BY[res.by].slice(1) : 'Group', ...cols.map((x) => x[1])],
    rows.map((r) => [r.group, cells(r, 'group'), { 'data-group': r.group }]), ['Total', cells(p, 'group-total')], 'No MRR in this period.');
}

/**
 * loadRevenue fetches and draws the view for params (workspace, from, to)
 * and opts (grain, by, period: '' for the last); it returns the range
 * shown and the subtitle, and sets opts.period to the period shown.
 * current() says whether this load is still wanted.
 */
export async function loadRevenue(params, opts, current) {
  const q = { ...params, grain: opts.grain, by: opts.by };
  const [res, ret] = await Promise.all([
    getJSON('api/v1/revenue', q),
    getJSON('api/v1/revenue/retention', params),
  ]);
  if (!current()) return res;
  const ps = res.periods || [];
  if (!ps.some((x) => x.period === opts.period)) opts.period = '';
  const p = ps.find((x) => x.period === opts.period) || ps[ps.length - 1];
  const grainLabel = (s) => (res.grain === 'month' ? label(s, 'month') : 'week of ' + label(s, 'day'));
  const sel = $('revenue-period');
  sel.replaceChildren(...[...ps].reverse().map((x) => new Option(grainLabel(x.period), x.period, false, p && x.period === p.period)));
  if (p) {
    renderTiles($('revenue-tiles'), p, res, res.grain === 'month' ? ret : null);
    $('revenue-waterfall-sub').textContent = `${grainLabel(p.period)}: opening MRR, its movements and closing MRR · ${res.currency}`;
    renderWaterfall($('revenue-waterfall'), $('revenue-waterfall-data'), p, res.currency, res.grain);
    $('revenue-groups-title').textContent = `Movements by ${BY[res.by]}`;
    $('revenue-groups-sub').textContent = `${grainLabel(p.period)} · the groups add up to the total`;
    renderGroups($('revenue-groups'), res, p);
  }
  $('revenue-trend-sub').textContent = `Movements per ${res.grain} (losses below zero) and closing MRR on the right axis · click a bar to select its ${res.grain}`;
  renderTrend($('revenue-trend'), $('revenue-periods'), res, res.grain, p ? p.period : '', (period) => {
    sel.value = period;
    sel.dispatchEvent(new Event('change'));
  });
  $('revenue-retention-sub').textContent = 'Per month, of the opening MRR; dashed: the trailing 12 months';
  renderRetention($('revenue-retention'), ret);
  $('revenue-csv').href = url('api/v1/revenue', { ...q, format: 'csv' }).href;
  $('revenue-log-csv').href = url('api/v1/revenue/log', { ...params, grain: opts.grain, format: 'csv' }).href;
  return { from: res.from, to: res.to, subtitle: `${range(res.from, res.to)} · MRR in ${res.currency} · ${res.time_zone}` };
}
