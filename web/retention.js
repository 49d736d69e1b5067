// The Retention view: D1/D7/D30 tiles, the cohort × interval heatmap and
// the retention curves per acquisition channel, all from
// GET /api/v1/retention. Cells nobody is eligible for yet (the interval
// has not ended) are left empty, never shown as 0 %.

import { getJSON, url } from './api.js';
import { format, isNum, raw } from './format.js';
import { range } from './dates.js';
import { el, html } from './dom.js';

const $ = (id) => document.getElementById(id);
const COLORS = ['#0a2540', '#635bff', '#0e9f6e', '#f5a623', '#e25950', '#00a3d9', '#8d6cab', '#697386'];
const GRAIN = { day: 'Day', week: 'Week', month: 'Month' };

let heatmap = null;
let curves = null;

function initChart(container, current) {
  if (current) return current;
  const c = window.echarts.init(container, null, { renderer: 'svg' });
  new ResizeObserver(() => c.resize()).observe(container);
  return c;
}

const pct = (rate) => format('percent', rate);

function renderTiles(container, res) {
  const h = res.headline.find((x) => x.group === '') || null;
  const tiles = [['d1', 'Day 1'], ['d7', 'Day 7'], ['d30', 'Day 30']].map(([key, label]) => {
    const c = h ? h[key] : null;
    const rate = c ? c.rate : null;
    const tile = el('article', { class: 'kpi', 'data-kpi': key });
    tile.append(el('h3', { class: 'kpi-label', title: `Share of the cohorts' people who came back ${res.mode === 'on' ? 'on' : 'on or after'} day ${key.slice(1)}` }, label));
    tile.append(el('p', {
      class: 'kpi-value' + (isNum(rate) ? '' : ' empty'), 'data-scope': 'headline', 'data-metric': key, 'data-value': raw(rate),
    }, isNum(rate) ? pct(rate) : '—'));
    const note = c && c.eligible > 0
      ? `${format('count', c.retained)} of ${format('count', c.eligible)} people`
      : 'Not observable yet: no cohort is old enough';
    tile.append(el('p', { class: 'kpi-note', 'data-metric': key + '_eligible', 'data-value': raw(c ? c.eligible : null) }, note));
    return tile;
  });
  container.replaceChildren(...tiles);
}

function renderMatrixTable(table, rows, grain) {
  const n = rows.length ? rows[0].cells.length : 0;
  const head = el('tr');
  head.append(el('th', { scope: 'col' }, 'Cohort'), el('th', { scope: 'col' }, 'People'));
  for (let i = 0; i < n; i++) head.append(el('th', { scope: 'col' }, `${GRAIN[grain]} ${i}`));
  const body = rows.map((r) => {
    const tr = el('tr', { 'data-cohort': r.cohort });
    tr.append(el('th', { scope: 'row' }, r.cohort));
    tr.append(el('td', { 'data-cohort': r.cohort, 'data-metric': 'size', 'data-value': raw(r.size) }, format('count', r.size)));
    for (const c of r.cells) {
      tr.append(el('td', { 'data-cohort': r.cohort, 'data-n': String(c.n), 'data-metric': 'rate', 'data-value': raw(c.rate) }, pct(c.rate)));
    }
    return tr;
  });
  table.replaceChildren(table.caption || el('caption'), el('thead'), el('tbody'));
  table.tHead.append(head);
  table.tBodies[0].append(...body);
}

function renderHeatmap(container, rows, grain) {
  if (!window.echarts) {
    container.textContent = 'The chart library did not load.';
    return;
  }
  heatmap = initChart(container, heatmap);
  const n = rows.length ? rows[0].cells.length : 0;
  const data = [];
  rows.forEach((r, y) => {
    for (const c of r.cells) {
      if (!isNum(c.rate)) continue;
      const value = [c.n, y, Math.round(c.rate * 1000) / 10, c.retained, c.eligible];
      // Dark text on the light cells, white on the dark ones.
      data.push({ value, label: { color: c.rate < 0.4 ? '#425466' : '#fff', textBorderWidth: c.rate < 0.4 ? 0 : 2 } });
    }
  });
  const cohortLabel = (r) => `${r.cohort} · ${format('count', r.size)}`;
  // Tall enough for every cohort.
  container.style.height = Math.max(260, 70 + rows.length * 26) + 'px';
  heatmap.resize();
  heatmap.setOption({
    animation: false,
    textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
    grid: { left: 12, right: 12, top: 28, bottom: 8, containLabel: true },
    tooltip: {
      position: 'top', borderColor: '#e3e8ee', textStyle: { color: '#0a2540', fontSize: 13 },
      formatter: (p) => html(`Cohort ${rows[p.value[1]].cohort}, ${GRAIN[grain].toLowerCase()} ${p.value[0]}`) + '<br>' +
        html(`${p.value[2]} % · ${format('count', p.value[3])} of ${format('count', p.value[4])}`),
    },
    xAxis: {
      type: 'category', position: 'top', data: Array.from({ length: n }, (_, i) => String(i)),
      axisTick: { show: false }, axisLine: { show: false }, axisLabel: { color: '#697386', fontSize: 12 }, splitArea: { show: false },
    },
    yAxis: {
      type: 'category', inverse: true, data: rows.map(cohortLabel),
      axisTick: { show: false }, axisLine: { show: false }, axisLabel: { color: '#425466', fontSize: 12 },
    },
    visualMap: { show: false, dimension: 2, min: 0, max: 100, inRange: { color: ['#f3f2ff', '#635bff', '#2e2a8a'] } },
    graphic: rows.length ? [] : [{
      type: 'text', left: 'center', top: 'middle', silent: true,
      style: { text: 'No cohort in this period', fill: '#697386', fontSize: 14 },
    }],
    series: [{
      type: 'heatmap', data,
      label: { show: n <= 16, fontSize: 11, formatter: (p) => Math.round(p.value[2]) + '%', color: '#fff', textBorderColor: 'rgba(10, 37, 64, 0.35)', textBorderWidth: 2 },
      itemStyle: { borderColor: '#fff', borderWidth: 2 },
      emphasis: { itemStyle: { borderColor: '#0a2540', borderWidth: 1 } },
    }],
  }, true);
}

function renderCurvesTable(table, groups) {
  const n = groups.length ? groups[0].cells.length : 0;
  const head = el('tr');
  head.append(el('th', { scope: 'col' }, 'Channel'), el('th', { scope: 'col' }, 'People'));
  for (let i = 0; i < n; i++) head.append(el('th', { scope: 'col' }, String(i)));
  const body = groups.map((g) => {
    const tr = el('tr', { 'data-group': g.group });
    tr.append(el('th', { scope: 'row' }, g.group || 'All'));
    tr.append(el('td', { 'data-group': g.group, 'data-metric': 'size', 'data-value': raw(g.size) }, format('count', g.size)));
    for (const c of g.cells) {
      tr.append(el('td', { 'data-group': g.group, 'data-n': String(c.n), 'data-metric': 'rate', 'data-value': raw(c.rate) }, pct(c.rate)));
    }
    return tr;
  });
  table.replaceChildren(table.caption || el('caption'), el('thead'), el('tbody'));
  table.tHead.append(head);
  table.tBodies[0].append(...body);
}

function renderCurves(container, groups, grain) {
  if (!window.echarts) {
    container.textContent = 'The chart library did not load.';
    return;
  }
  curves = initChart(container, curves);
  const n = groups.length ? groups[0].cells.length : 0;
  curves.setOption({
    animationDuration: 300,
    textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
    color: COLORS,
    grid: { left: 4, right: 32, top: 44, bottom: 10, containLabel: true },
    legend: { top: 0, left: 0, icon: 'roundRect', itemWidth: 12, itemHeight: 12, itemGap: 20, textStyle: { color: '#425466', fontSize: 13 } },
    tooltip: {
      trigger: 'axis', borderColor: '#e3e8ee', textStyle: { color: '#0a2540', fontSize: 13 },
      valueFormatter: (v) => (isNum(v) ? v + ' %' : 'not observable yet'),
    },
    xAxis: {
      type: 'category', boundaryGap: false, data: Array.from({ length: n }, (_, i) => `${GRAIN[grain]} ${i}`),
      axisTick: { show: false }, axisLine: { lineStyle: { color: '#e3e8ee' } }, axisLabel: { color: '#697386', fontSize: 12, hideOverlap: true },
    },
    yAxis: {
      type: 'value', min: 0, max: 100, interval: 25,
      axisLabel: { color: '#697386', fontSize: 12, formatter: '{value} %' }, splitLine: { lineStyle: { color: '#eef1f5' } },
    },
    graphic: groups.length ? [] : [{
      type: 'text', left: 'center', top: 'middle', silent: true,
      style: { text: 'No cohort in this period', fill: '#697386', fontSize: 14 },
    }],
    series: groups.map((g) => ({
      name: g.group || 'All channels', type: 'line', symbol: 'circle', symbolSize: 5, showSymbol: n <= 31,
      lineStyle: { width: g.group ? 2 : 3, type: g.group ? 'solid' : 'dashed' },
      data: g.cells.map((c) => (isNum(c.rate) ? Math.round(c.rate * 1000) / 10 : null)),
    })),
  }, true);
}

/**
 * loadRetention fetches and draws the view for params (workspace, from,
 * to) and opts (mode, grain); it returns the range shown and the
 * subtitle. current() says whether this load is still wanted.
 */
export async function loadRetention(params, opts, current) {
  const q = { ...params, mode: opts.mode, grain: opts.grain };
  const [all, byChannel] = await Promise.all([
    getJSON('api/v1/retention', q),
    getJSON('api/v1/retention', { ...q, by: 'channel' }),
  ]);
  if (!current()) return all;
  const start = all.cohort_event ? `first ${all.cohort_event}` : `first reaching ${all.cohort_stage}`;
  const ret = all.return_event || 'any event';
  const mode = all.mode === 'on' ? `came back on ${all.grain} N` : `came back on or after ${all.grain} N`;
  const rows = all.cohorts.filter((r) => r.group === '');
  renderTiles($('retention-tiles'), all);
  $('retention-sub').textContent = `Cohorts by ${start} (rows), ${all.grain}s since (columns) · % who ${mode} (return: ${ret}) · empty: not observable yet`;
  renderHeatmap($('retention-heatmap'), rows, all.grain);
  renderMatrixTable($('retention-data'), rows, all.grain);
  const groups = byChannel.totals;
  $('curves-sub').textContent = `All cohorts together, by acquisition channel · ${mode}`;
  renderCurves($('retention-curves'), groups, byChannel.grain);
  renderCurvesTable($('curves-data'), groups);
  $('retention-csv').href = url('api/v1/retention', { ...q, format: 'csv' }).href;
  const asOf = all.as_of.slice(0, 10);
  return { from: all.from, to: all.to, subtitle: `Cohorts ${range(all.from, all.to)} · observed until ${asOf}` };
}
