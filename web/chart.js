// Spend vs revenue over time: an Apache ECharts chart (SVG renderer) and,
// for screen readers and tests, the same figures as a hidden table.

import { format, raw } from './format.js';
import { buckets, label } from './dates.js';
import { el } from './dom.js';

const SPEND = '#635bff';
const REVENUE = '#0e9f6e';

let chart = null;
let observer = null;

/** series returns one point per bucket of [from, to], zero where the report has no row. */
export function series(report, grain) {
  const byPeriod = new Map((report.rows || []).map((r) => [r.period, r]));
  const periods = buckets(report.from, report.to, grain);
  for (const p of byPeriod.keys()) if (p && !periods.includes(p)) periods.push(p);
  periods.sort();
  return periods.map((p) => {
    const r = byPeriod.get(p);
    return { period: p, cost: r ? r.cost : 0, revenue: r ? r.revenue : 0 };
  });
}

/** renderChart draws report (broken down by grain) into container and table. */
export function renderChart(container, table, report, grain, currency) {
  const points = series(report, grain);

  const caption = el('caption', {}, `Spend and revenue by ${grain}`);
  const head = el('tr');
  head.append(el('th', { scope: 'col' }, grain === 'month' ? 'Month' : 'Week of'), el('th', { scope: 'col' }, 'Spend'), el('th', { scope: 'col' }, 'Revenue'));
  const rows = points.map((p) => {
    const tr = el('tr', { 'data-period': p.period });
    tr.append(el('th', { scope: 'row' }, p.period));
    for (const key of ['cost', 'revenue']) {
      tr.append(el('td', { 'data-period': p.period, 'data-metric': key, 'data-value': raw(p[key]) }, format('money', p[key], currency)));
    }
    return tr;
  });
  table.replaceChildren(caption, el('thead'), el('tbody'));
  table.tHead.append(head);
  table.tBodies[0].append(...rows);

  if (!window.echarts) {
    container.textContent = 'The chart library did not load.';
    return;
  }
  if (!chart) {
    chart = window.echarts.init(container, null, { renderer: 'svg' });
    observer = new ResizeObserver(() => chart && chart.resize());
    observer.observe(container);
  }
  const empty = points.every((p) => !p.cost && !p.revenue);
  const money = (v) => format('money', v, currency);
  const axisMoney = (v) => format('money', v, currency, { compact: true });
  chart.setOption({
    animationDuration: 300,
    textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
    grid: { left: 4, right: 12, top: 44, bottom: 4, containLabel: true },
    legend: {
      top: 0, left: 0, icon: 'roundRect', itemWidth: 12, itemHeight: 12, itemGap: 20,
      textStyle: { color: '#425466', fontSize: 13 },
    },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow', shadowStyle: { color: 'rgba(99, 91, 255, 0.06)' } },
      valueFormatter: money,
      borderColor: '#e3e8ee',
      textStyle: { color: '#0a2540', fontSize: 13 },
    },
    xAxis: {
      type: 'category',
      data: points.map((p) => label(p.period, grain)),
      axisTick: { show: false },
      axisLine: { lineStyle: { color: '#e3e8ee' } },
      axisLabel: { color: '#697386', fontSize: 12, hideOverlap: true },
    },
    yAxis: {
      type: 'value',
      splitNumber: 4,
      minInterval: 1,
      axisLabel: { color: '#697386', fontSize: 12, formatter: axisMoney },
      splitLine: { lineStyle: { color: '#eef1f5' } },
    },
    graphic: empty ? [{
      type: 'text', left: 'center', top: 'middle', silent: true,
      style: { text: 'No spend or revenue in this period', fill: '#697386', fontSize: 14 },
    }] : [],
    series: [
      {
        name: 'Spend', type: 'bar', data: points.map((p) => p.cost), barMaxWidth: 28,
        itemStyle: { color: SPEND, borderRadius: [3, 3, 0, 0] },
        emphasis: { itemStyle: { color: '#4b45c6' } },
      },
      {
        name: 'Revenue', type: 'line', data: points.map((p) => p.revenue),
        symbol: 'circle', symbolSize: 6, showSymbol: points.length <= 26,
        lineStyle: { width: 2.5, color: REVENUE }, itemStyle: { color: REVENUE },
        areaStyle: {
          color: new window.echarts.graphic.LinearGradient(0, 0, 0, 1, [
            { offset: 0, color: 'rgba(14, 159, 110, 0.18)' },
            { offset: 1, color: 'rgba(14, 159, 110, 0)' },
          ]),
        },
      },
    ],
  }, true);
}
