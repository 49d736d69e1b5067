// The Attribution view: GET /api/v1/attribution with every model. Per
// channel (or channel and campaign): every model's credited conversions
// side by side (grouped bars and a table), with cost, attributed revenue,
// cost per attributed conversion and ROAS for the selected model and the
// conversions the ad platforms claim; the most frequent paths and their
// flow (a Sankey of touch positions ending in a conversion or not); the
// path-length and time-to-convert distributions; the data-driven models'
// own figures and the lead quality by first-touch channel. Every figure
// is the API's (docs/metrics.md, "Attribution"); nothing is computed here
// but the layout of the flow chart.

import { getJSON, url } from './api.js';
import { format, isNum } from './format.js';
import { range } from './dates.js';
import { el, html } from './dom.js';
import { BASE, axisX, axisY, cell, chartFor, emptyText, fillTable, noChart, show, tile } from './figure.js';

const $ = (id) => document.getElementById(id);

/** MODELS name and define each model (docs/metrics.md, "Attribution"). */
export const MODELS = {
  first: ['First touch', 'All the credit to the first touch of the path'],
  last: ['Last touch', 'All the credit to the last touch before the conversion'],
  last_non_direct: ['Last non-direct', 'All the credit to the last touch that is not Direct (Direct when there is no other)'],
  linear: ['Linear', 'Equal credit to every touch of the path'],
  position: ['Position-based', '40 % to the first touch, 40 % to the last, 20 % spread over those between (50/50 with two touches)'],
  w_shaped: ['W-shaped', '30 % each to the first touch, the lead-creation touch and the opportunity-creation touch, 10 % over the rest'],
  time_decay: ['Time decay', 'Credit halves with every half-life between a touch and the conversion'],
  custom: ['Custom', 'The first / middle / last weights set in bowtie.yaml'],
  markov: ['Markov chain', 'Removal effect of each channel in a Markov chain of the converting and non-converting paths, normalised to the conversions'],
  shapley: ['Shapley value', 'Each channel\'s average marginal contribution to the conversion rate over all orders of channels, normalised to the conversions'],
};
const PALETTE = ['#635bff', '#0e9f6e', '#00a3d9', '#f5a623', '#e25950', '#0a2540', '#9b51e0', '#8fa0b5', '#2bb673', '#d6409f'];

/** modelName returns a model's label (the API's name when unknown). */
const modelName = (m) => (MODELS[m] ? MODELS[m][0] : m);
const modelHint = (m) => (MODELS[m] ? MODELS[m][1] : m);

/** rowKey is a row's data-row: the channel, and " / campaign" with by=campaign. */
export const rowKey = (r) => (r.campaign ? `${r.channel} / ${r.campaign}` : r.channel);

function renderTiles(container, res) {
  const t = res.totals;
  const c = res.currency;
  container.replaceChildren(
    tile('conversions', 'Conversions', `Conversions (${res.conversion}) in the period: what every model's credits add up to`, 'totals', 'conversions', t.conversions, 'count', c,
      `${format('count', t.direct_conversions)} with no touch (credited to Direct)`),
    tile('revenue', 'Attributed revenue', 'The revenue that travels with the conversions, split by the same credit', 'totals', 'revenue', t.revenue, 'money', c,
      'split like the conversions'),
    tile('cost', 'Cost', 'Spend of the period over every channel (the report\'s cost types)', 'totals', 'cost', t.cost, 'money', c, 'all channels'),
    tile('paths', 'Converting paths', 'Paths ending in a conversion; non-converting paths are kept for the data-driven models', 'totals', 'converting_paths', t.converting_paths, 'count', c,
      `${format('count', t.null_paths)} paths without a conversion`),
    tile('touches', 'Touches', 'Touches on converting paths, after the path options (repeats collapsed unless kept)', 'totals', 'touches', t.touches, 'count', c,
      res.keep_repeats ? 'repeats kept' : 'repeats of a channel collapsed'),
    tile('platform', 'Platform-claimed', 'Conversions the ad platforms report for themselves (spend.platform_conversions), beside bowtie\'s own count', 'totals', 'platform_conversions',
      t.platform_conversions, 'count', c, [el('span', {}, 'over-claim '), el('span', { 'data-scope': 'totals', 'data-metric': 'over_claim', 'data-value': isNum(t.over_claim) ? String(t.over_claim) : '', title: 'Platform-claimed ÷ bowtie conversions' }, show('ratio', t.over_claim))]),
  );
}

/** renderCredits draws the grouped bars and the side-by-side table. */
function renderCredits(container, table, res, model) {
  const rows = res.rows || [];
  const c = res.currency;
  const models = res.models || [];
  const at = (r) => ({ 'data-row': rowKey(r) });
  const head = [res.by === 'campaign' ? 'Channel / campaign' : 'Channel', ...models.map(modelName),
    'Cost', `Revenue (${modelName(model)})`, `Cost per conversion (${modelName(model)})`, `ROAS (${modelName(model)})`, 'Platform-claimed', 'Over-claim'];
  fillTable(table, head, rows.map((r) => [rowKey(r), [
    ...models.map((m) => cell('credit', `credits.${m}.conversions`, r.credits[m] ? r.credits[m].conversions : null, 'number', c, at(r))),
    cell('credit', 'cost', r.cost, 'money', c, at(r)),
    cell('credit', `credits.${model}.revenue`, r.credits[model] ? r.credits[model].revenue : null, 'money', c, at(r)),
    cell('credit', `credits.${model}.cost_per_conversion`, r.credits[model] ? r.credits[model].cost_per_conversion : null, 'money', c, at(r)),
    cell('credit', `credits.${model}.roas`, r.credits[model] ? r.credits[model].roas : null, 'ratio', c, at(r)),
    cell('credit', 'platform_conversions', r.platform_conversions, 'number', c, at(r)),
    cell('credit', 'over_claim', r.over_claim, 'ratio', c, at(r)),
  ], at(r)]), ['Total', [
    ...models.map((m) => cell('credit-total', 'conversions', res.totals.conversions, 'number', c, { 'data-model': m })),
    cell('credit-total', 'cost', res.totals.cost, 'money', c),
    cell('credit-total', 'revenue', res.totals.revenue, 'money', c),
    el('td', { class: 'num null' }, ''), el('td', { class: 'num null' }, ''),
    cell('credit-total', 'platform_conversions', res.totals.platform_conversions, 'number', c),
    cell('credit-total', 'over_claim', res.totals.over_claim, 'ratio', c),
  ]], 'No conversion in this period.');
  // The headers say what each model and figure is.
  const ths = table.tHead.rows[0].cells;
  models.forEach((m, i) => { ths[i + 1].title = modelHint(m); ths[i + 1].dataset.model = m; });
  const k = models.length + 1;
  ths[k].title = 'Spend of the row in the period';
  ths[k + 1].title = 'Revenue credited to the row by the selected model';
  ths[k + 2].title = 'Cost ÷ conversions credited by the selected model';
  ths[k + 3].title = 'Credited revenue ÷ cost, by the selected model';
  ths[k + 4].title = 'Conversions the ad platform reports for the row (spend.platform_conversions)';
  ths[k + 5].title = 'Platform-claimed ÷ the row\'s last-touch conversions';

  if (noChart(container)) return;
  const shown = rows.slice(0, 15);
  chartFor(container).setOption({
    ...BASE(),
    legend: { ...BASE().legend, type: 'scroll', right: 0 },
    grid: { left: 4, right: 4, top: 44, bottom: 4, containLabel: true },
    tooltip: {
      trigger: 'axis', axisPointer: { type: 'shadow', shadowStyle: { color: 'rgba(99, 91, 255, 0.06)' } }, borderColor: '#e3e8ee',
      textStyle: { color: '#0a2540', fontSize: 13 },
      formatter: (ps) => html(rowKey(shown[ps[0].dataIndex])) + ps.map((p) => '<br>' + html(`${p.seriesName}: ${show('number', p.value)} conversions`)).join(''),
    },
    xAxis: axisX(shown.map(rowKey)),
    yAxis: axisY((v) => format('number', v)),
    graphic: shown.length ? [] : emptyText('No conversion in this period'),
    series: models.map((m, i) => ({
      name: modelName(m), type: 'bar', barMaxWidth: 14, itemStyle: { color: PALETTE[i % PALETTE.length] },
      data: shown.map((r) => (r.credits[m] ? Math.round(r.credits[m].conversions * 100) / 100 : 0)),
    })),
  }, true);
}

function renderPaths(table, res) {
  const c = res.currency;
  const rows = res.top_paths || [];
  fillTable(table, ['Path', 'Conversions', 'Without conversion', 'Conversion rate', 'Revenue'], rows.map((p) => {
    const at = { 'data-path': p.path };
    return [p.path, [
      cell('path', 'conversions', p.conversions, 'number', c, at), cell('path', 'nulls', p.nulls, 'number', c, at),
      cell('path', 'conversion_rate', p.conversion_rate, 'percent', c, at), cell('path', 'revenue', p.revenue, 'money', c, at),
    ], at];
  }), undefined, 'No path in this period.');
}

/** SEP separates the channels of a path (query/attribution PathRow). */
const SEP = ' > ';
/** MAX_STEPS is the number of touch positions the flow shows. */
export const MAX_STEPS = 6;

/**
 * flow turns top paths into Sankey nodes and links: a node per touch
 * position and channel ("2. Email"), so that repeats make no cycle; a
 * path longer than MAX_STEPS keeps its first MAX_STEPS − 1 touches and its
 * last ("Last. Direct"); every path ends in "Conversion" (its conversions)
 * and "No conversion" (its nulls); a path with no touch starts at
 * "No touch". A link carries the paths that take it.
 */
export function flow(paths) {
  const nodes = new Map();
  const links = new Map();
  const node = (name, depth) => { if (!nodes.has(name)) nodes.set(name, depth); return name; };
  const link = (a, b, v) => {
    if (!(v > 0)) return;
    const k = a + '\u0000' + b;
    const l = links.get(k) || { source: a, target: b, value: 0 };
    l.value += v;
    links.set(k, l);
  };
  let depthMax = 0;
  for (const p of paths) {
    let chans = p.path === '(none)' || p.path === '' ? [] : p.path.split(SEP);
    let names = chans.map((ch, i) => `${i + 1}. ${ch}`);
    if (chans.length > MAX_STEPS) {
      names = [...names.slice(0, MAX_STEPS - 1), `Last. ${chans[chans.length - 1]}`];
    }
    if (names.length === 0) names = ['No touch'];
    names.forEach((n, i) => node(n, i));
    depthMax = Math.max(depthMax, names.length);
    for (let i = 1; i < names.length; i++) link(names[i - 1], names[i], p.conversions + p.nulls);
    const last = names[names.length - 1];
    link(last, 'Conversion', p.conversions);
    link(last, 'No conversion', p.nulls);
  }
  const used = new Set();
  for (const l of links.values()) { used.add(l.source); used.add(l.target); }
  const out = [...nodes.entries()].filter(([n]) => used.has(n)).map(([name, depth]) => ({ name, depth }));
  for (const t of ['Conversion', 'No conversion']) if (used.has(t)) out.push({ name: t, depth: depthMax });
  return { nodes: out, links: [...links.values()] };
}

function renderFlow(container, table, res) {
  const { nodes, links } = flow(res.top_paths || []);
  fillTable(table, ['From', 'To', 'Paths'], links.map((l) => [l.source, [
    el('td', { class: 'text' }, l.target), cell('flow', 'value', l.value, 'number', res.currency, { 'data-source': l.source, 'data-target': l.target }),
  ]]), undefined, 'No path in this period.');
  if (noChart(container)) return;
  const chart = chartFor(container);
  chart.setOption({
    ...BASE(),
    legend: { show: false },
    tooltip: {
      trigger: 'item', borderColor: '#e3e8ee', textStyle: { color: '#0a2540', fontSize: 13 },
      formatter: (p) => (p.dataType === 'edge'
        ? html(`${p.data.source} → ${p.data.target}: ${show('number', p.data.value)} paths`)
        : html(`${p.name}: ${show('number', p.value)} paths`)),
    },
    graphic: nodes.length ? [] : emptyText('No path in this period'),
    series: [{
      type: 'sankey', left: 8, right: 120, top: 12, bottom: 12, nodeGap: 10, nodeWidth: 14, draggable: false, layoutIterations: 32,
      emphasis: { focus: 'adjacency' }, data: nodes, links,
      label: { color: '#425466', fontSize: 12 },
      lineStyle: { color: 'gradient', opacity: 0.35, curveness: 0.5 },
      itemStyle: { borderWidth: 0 },
      levels: [],
    }],
  }, true);
}

function renderBuckets(container, table, list, scope, title, unit, currency, none) {
  const rows = list || [];
  fillTable(table, [unit, 'Conversions', 'Revenue'], rows.map((b) => [b.label, [
    cell(scope, 'conversions', b.conversions, 'number', currency, { 'data-bucket': b.label }),
    cell(scope, 'revenue', b.revenue, 'money', currency, { 'data-bucket': b.label }),
  ]]), undefined, 'No conversion in this period.');
  if (noChart(container)) return;
  chartFor(container).setOption({
    ...BASE(),
    legend: { show: false },
    grid: { left: 4, right: 8, top: 16, bottom: 4, containLabel: true },
    tooltip: {
      trigger: 'axis', axisPointer: { type: 'shadow' }, borderColor: '#e3e8ee', textStyle: { color: '#0a2540', fontSize: 13 },
      formatter: (ps) => {
        const b = rows[ps[0].dataIndex];
        return html(`${title} ${b.label}`) + '<br>' + html(`${show('number', b.conversions)} conversions · ${show('money', b.revenue, currency)}`);
      },
    },
    xAxis: axisX(rows.map((b) => b.label)),
    yAxis: axisY((v) => format('number', v)),
    graphic: rows.some((b) => b.conversions) ? [] : emptyText(none || 'No conversion in this period'),
    series: [{ name: 'Conversions', type: 'bar', barMaxWidth: 28, itemStyle: { color: '#635bff', borderRadius: [3, 3, 0, 0] }, data: rows.map((b) => b.conversions) }],
  }, true);
}

function renderDataDriven(table, res) {
  const rm = res.markov;
  const sh = res.shapley;
  const byCh = new Map();
  if (rm) for (const r of rm.removal_effects || []) byCh.set(r.channel, { re: r });
  if (sh) for (const v of sh.values || []) byCh.set(v.channel, { ...(byCh.get(v.channel) || {}), sv: v });
  const chans = [...byCh.keys()];
  fillTable(table, ['Channel', 'Markov removal effect', 'Markov share', 'Shapley value', 'Shapley std. error'], chans.map((ch) => {
    const x = byCh.get(ch);
    const at = { 'data-channel': ch };
    return [ch, [
      cell('markov', 'removal_effect', x.re ? x.re.removal_effect : null, 'percent', res.currency, at),
      cell('markov', 'share', x.re ? x.re.share : null, 'percent', res.currency, at),
      cell('shapley', 'value', x.sv ? x.sv.value : null, 'number', res.currency, at),
      cell('shapley', 'std_err', x.sv ? x.sv.std_err : null, 'number', res.currency, at),
    ], at];
  }), undefined, 'The data-driven models did not run.');
  const parts = [];
  if (rm) parts.push(`Markov chain of order ${rm.order}: ${rm.states} states, P(conversion from start) ${show('percent', rm.conversion_prob)}; removal effect = the drop in that probability when the channel is removed`);
  if (sh) parts.push(sh.exact ? 'Shapley values exact (every coalition of channels)' : `Shapley values sampled over ${format('count', sh.samples)} orders, with their standard error`);
  $('attr-dd-sub').textContent = parts.join(' · ') || 'Not run';
}

function renderLeadQuality(card, table, res) {
  const rows = res.lead_quality || [];
  card.hidden = rows.length === 0;
  const at = (r) => ({ 'data-channel': r.channel });
  fillTable(table, ['First-touch channel', 'Leads', 'MQLs', 'SQLs', 'Won', 'Lead → MQL', 'Lead → SQL', 'Lead → won'], rows.map((r) => [r.channel, [
    cell('lead', 'leads', r.leads, 'count', res.currency, at(r)), cell('lead', 'mqls', r.mqls, 'count', res.currency, at(r)),
    cell('lead', 'sqls', r.sqls, 'count', res.currency, at(r)), cell('lead', 'won', r.won, 'count', res.currency, at(r)),
    cell('lead', 'to_mql', r.to_mql, 'percent', res.currency, at(r)), cell('lead', 'to_sql', r.to_sql, 'percent', res.currency, at(r)),
    cell('lead', 'to_won', r.to_won, 'percent', res.currency, at(r)),
  ], at(r)]));
}

/** params returns the API parameters of the view's options. */
export function attributionQuery(params, opts) {
  return { ...params, model: 'all', conversion: opts.conversion, level: opts.level, by: opts.by, lookback: opts.lookback, dataset: opts.dataset };
}

/**
 * loadAttribution fetches and draws the view for params (workspace, from,
 * to) and opts (model: the one whose cost figures the table shows;
 * conversion, level, by, lookback: '' for the API's defaults; dataset: an
 * imported paths dataset instead of the events, from the URL); it returns
 * the range shown and the subtitle. current() says whether this load is
 * still wanted.
 */
export async function loadAttribution(params, opts, current) {
  const q = attributionQuery(params, opts);
  const res = await getJSON('api/v1/attribution', q);
  if (!current()) return res;
  const models = res.models || [];
  if (!models.includes(opts.model)) opts.model = models.includes('linear') ? 'linear' : models[0] || '';
  const sel = $('attr-model');
  sel.replaceChildren(...models.map((m) => new Option(modelName(m), m, false, m === opts.model)));
  sel.title = modelHint(opts.model);
  $('attr-conversion').value = res.conversion;
  $('attr-level').value = res.level;
  $('attr-by').value = res.by;
  $('attr-lookback').value = opts.lookback;
  $('attr-lookback').placeholder = `${format('number', res.lookback_days)}d`;

  renderTiles($('attr-tiles'), res);
  const notes = res.notes || [];
  $('attr-notes').replaceChildren(...notes.map((n) => el('li', {}, n)));
  $('attr-notes').hidden = notes.length === 0;
  const what = res.dataset ? `imported dataset ${res.dataset}` : `${res.conversion} at ${res.level} level · touches in the ${format('number', res.lookback_days)} days before`;
  // An imported dataset has its own paths: no conversion, level or lookback to choose.
  for (const id of ['attr-conversion', 'attr-level', 'attr-lookback']) $(id).disabled = !!res.dataset;
  $('attr-credit-sub').textContent = `Credited conversions per ${res.by === 'campaign' ? 'channel and campaign' : 'channel'} by every model · ${what}` +
    ` · cost, revenue, cost per conversion and ROAS by ${modelName(opts.model)} (${modelHint(opts.model)}) · ${res.currency}`;
  renderCredits($('attr-chart'), $('attr-table'), res, opts.model);
  $('attr-paths-sub').textContent = `The ${(res.top_paths || []).length} most frequent channel sequences; conversion rate = conversions ÷ (conversions + paths without one)`;
  renderPaths($('attr-paths'), res);
  $('attr-flow-sub').textContent = `Flow of the top paths: each column is a touch position ("2. Email" = Email as the second touch); ` +
    `paths longer than ${MAX_STEPS} touches show their first ${MAX_STEPS - 1} and their last; width = number of paths`;
  renderFlow($('attr-flow'), $('attr-flow-data'), res);
  renderBuckets($('attr-lengths'), $('attr-lengths-data'), res.path_lengths, 'length', 'Touches', 'Touches', res.currency);
  renderBuckets($('attr-ttc'), $('attr-ttc-data'), res.time_to_convert, 'ttc', 'Days', 'Days', res.currency,
    res.dataset ? 'Imported paths carry no times' : undefined);
  renderDataDriven($('attr-dd'), res);
  renderLeadQuality($('attr-lead-card'), $('attr-lead'), res);
  $('attr-csv').href = url('api/v1/attribution', { ...q, format: 'csv' }).href;
  const source = res.dataset ? `imported dataset ${res.dataset}` : `${res.conversion}, ${res.level} level`;
  return { from: res.from, to: res.to, subtitle: `${range(res.from, res.to)} · ${source} · ${res.currency} · ${res.time_zone}` };
}
