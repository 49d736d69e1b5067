// The LTV & payback view: GET /api/v1/payback (CAC, LTV by the selected
// model, LTV:CAC and payback months per channel; cohort ROAS curves per
// acquisition month) and GET /api/v1/ltv?model= (the model's own table,
// its assumptions and fitted parameters shown as text beside the
// numbers, and for bgnbd the calibration/hold-out fit check by
// frequency). Every figure is the API's.

import { getJSON, url } from './api.js';
import { format, isNum } from './format.js';
import { range } from './dates.js';
import { el, html } from './dom.js';
import { BASE, axisX, axisY, cell, chartFor, emptyText, fillTable, noChart, show } from './figure.js';

const $ = (id) => document.getElementById(id);
const MODELS = {
  historical: 'Historical: gross profit per customer to date',
  formula: 'Formula: ARPA × margin ÷ churn',
  sbg: 'Contractual: shifted-beta-geometric',
  bgnbd: 'Non-contractual: BG/NBD + Gamma-Gamma',
};

function renderPayback(container, table, res, model, currency) {
  const rows = res.rows || [];
  const at = (g) => ({ 'data-group': g });
  const cells = (r, scope, g) => [
    cell(scope, 'spend', r.spend, 'money', currency, at(g)),
    cell(scope, 'new_customers', r.new_customers, 'count', currency, at(g)),
    cell(scope, 'cac', r.cac, 'money', currency, at(g)),
    cell(scope, 'ltv.' + model, r.ltv ? r.ltv[model] : null, 'money', currency, at(g)),
    cell(scope, 'ltv_to_cac.' + model, r.ltv_to_cac ? r.ltv_to_cac[model] : null, 'ratio', currency, at(g)),
    cell(scope, 'payback_months', r.payback_months, 'months', currency, at(g)),
    cell(scope, 'cohort_payback_month', r.cohort_payback_month, 'count', currency, at(g)),
  ];
  fillTable(table, ['Channel', 'Spend', 'New customers', 'CAC', `LTV (${model})`, 'LTV:CAC', 'Payback', 'Cohort paid back in month'],
    rows.map((r) => [r.group, cells(r, 'payback', r.group), { 'data-group': r.group }]), ['Total', cells(res.total, 'payback-total', '')],
    'No customer acquired in this period.');
  if (noChart(container)) return;
  const ratio = (r) => (r.ltv_to_cac && isNum(r.ltv_to_cac[model]) ? Math.round(r.ltv_to_cac[model] * 100) / 100 : null);
  const shownRows = rows.filter((r) => ratio(r) !== null);
  chartFor(container).setOption({
    ...BASE(),
    legend: { show: false },
    grid: { left: 4, right: 24, top: 20, bottom: 4, containLabel: true },
    tooltip: {
      trigger: 'axis', axisPointer: { type: 'shadow' }, borderColor: '#e3e8ee', textStyle: { color: '#0a2540', fontSize: 13 },
      formatter: (ps) => {
        const r = shownRows[ps[0].dataIndex];
        return html(r.group) + '<br>' + html(`LTV:CAC ${show('ratio', r.ltv_to_cac[model])}`) + '<br>' +
          html(`LTV ${show('money', r.ltv[model], currency)} · CAC ${show('money', r.cac, currency)}`) + '<br>' +
          html(`Payback ${show('months', r.payback_months)}`);
      },
    },
    xAxis: axisY((v) => v + '×'),
    yAxis: { type: 'category', inverse: true, data: shownRows.map((r) => r.group), axisTick: { show: false }, axisLine: { lineStyle: { color: '#e3e8ee' } }, axisLabel: { color: '#425466', fontSize: 12 } },
    graphic: shownRows.length ? [] : emptyText('No channel with both spend and lifetime value'),
    series: [{
      name: 'LTV:CAC', type: 'bar', barMaxWidth: 22,
      data: shownRows.map((r) => ({ value: ratio(r), itemStyle: { color: ratio(r) >= 3 ? '#0e9f6e' : ratio(r) >= 1 ? '#635bff' : '#e25950', borderRadius: 3 } })),
      label: { show: true, position: 'right', color: '#425466', fontSize: 12, formatter: (p) => p.value + '×' },
      markLine: shownRows.length ? { silent: true, symbol: 'none', label: { show: false }, lineStyle: { color: '#697386', type: 'dashed' }, data: [{ xAxis: 3 }] } : undefined,
    }],
  }, true);
}

/** historicalMonths are the months since acquisition the historical table shows. */
const historicalMonths = (n) => [0, 1, 3, 6, 12, 24, 36].filter((m) => m < n);

function renderModelTable(table, res, currency) {
  const g = (r) => ({ 'data-group': r.group });
  switch (res.model) {
    case 'historical': {
      const rows = res.totals || [];
      const n = Math.max(0, ...rows.map((r) => r.cells.length));
      const months = historicalMonths(n);
      fillTable(table, ['Channel', 'Customers', ...months.map((m) => `Month ${m}`)], rows.map((r) => [r.group, [
        cell('ltv', 'customers', r.customers, 'count', currency, g(r)),
        ...months.map((m) => {
          const i = r.cells.findIndex((x) => x.month === m);
          if (i < 0) return el('td', { class: 'num null', title: 'No cohort of this channel has reached this month' }, '—');
          return cell('ltv', `cells.${i}.gross_profit_per_customer`, r.cells[i].gross_profit_per_customer, 'money', currency, { ...g(r), 'data-month': String(m) });
        }),
      ], g(r)]), null, 'No customer yet.');
      return 'Cumulative gross profit per customer by month since acquisition (month 0: the acquisition month), customer-weighted over the cohorts that reached the month';
    }
    case 'formula': {
      const cells = (r, scope) => [
        cell(scope, 'arpa', r.arpa, 'money', currency, g(r)), cell(scope, 'churn', r.churn, 'percent', currency, g(r)),
        cell(scope, 'margin', r.margin, 'percent', currency, g(r)), cell(scope, 'lifetime_months', r.lifetime_months, 'months', currency, g(r)),
        cell(scope, 'ltv', r.ltv, 'money', currency, g(r)),
      ];
      fillTable(table, ['Channel', 'ARPA', 'Monthly churn', 'Margin', 'Lifetime', 'LTV'], (res.rows || []).map((r) => [r.group, cells(r, 'ltv'), g(r)]),
        ['Total', cells({ ...res.total, group: '' }, 'ltv-total')], 'No paying customer in the window.');
      return `ARPA × margin ÷ monthly churn, months ${res.window ? res.window.join(' to ') : ''}`;
    }
    case 'sbg': {
      const cells = (r, scope) => [
        cell(scope, 'customers', r.customers, 'count', currency, g(r)),
        cell(scope, 'fit.alpha', r.fit ? r.fit.alpha : null, 'number', currency, g(r)), cell(scope, 'fit.beta', r.fit ? r.fit.beta : null, 'number', currency, g(r)),
        cell(scope, 'mrr', r.mrr, 'money', currency, g(r)), cell(scope, 'discounted_lifetime', r.discounted_lifetime, 'number', currency, g(r)),
        cell(scope, 'ltv', r.ltv, 'money', currency, g(r)),
      ];
      fillTable(table, ['Channel', 'Subscribers', 'α', 'β', 'MRR at start', 'Discounted lifetime', 'LTV'],
        (res.rows || []).map((r) => [r.group + (r.pooled_fit_used ? ' *' : ''), cells(r, 'ltv'), g(r)]),
        ['All (pooled fit)', cells({ ...res.pooled, group: '' }, 'ltv-total')], 'No subscriber observed for a renewal.');
      return `Fitted to ${res.interval || 'monthly'} renewals by acquisition cohort · * too few subscribers: the pooled fit is used`;
    }
    case 'bgnbd': {
      const cells = (r, scope) => [
        cell(scope, 'customers', r.customers, 'count', currency, g(r)),
        cell(scope, 'expected_purchases', r.expected_purchases, 'number', currency, g(r)), cell(scope, 'p_alive', r.p_alive, 'percent', currency, g(r)),
        cell(scope, 'purchase_value', r.purchase_value, 'money', currency, g(r)), cell(scope, 'clv', r.clv, 'money', currency, g(r)),
      ];
      fillTable(table, ['Channel', 'Customers', 'Expected purchases', 'P(alive)', 'Purchase value', 'CLV'], (res.rows || []).map((r) => [r.group, cells(r, 'ltv'), g(r)]),
        ['Total', cells({ ...res.total, group: '' }, 'ltv-total')], 'No customer to fit.');
      return `Per customer: discounted expected purchases × expected purchase value × margin, in ${res.time_unit || 'days'}`;
    }
  }
  fillTable(table, ['Channel'], [], null, 'Unknown model.');
  return '';
}

/** fitText describes a fitted model: its parameters with standard errors and log-likelihood. */
function fitText(fit, names) {
  if (!fit) return '—';
  const se = fit.se || {};
  const p = names.map(([k, n]) => `${n} = ${show('number', fit[k])}` + (isNum(se[k]) ? ` (SE ${show('number', se[k])})` : '')).join(', ');
  return `${p}; log-likelihood ${show('number', fit.log_lik)}; ${format('count', fit.n)} customers` + (fit.converged === false ? '; did not converge' : '');
}

function renderAssumptions(dl, res, payback) {
  const a = res.assumptions || (payback && payback.assumptions) || {};
  const items = [
    ['Model', MODELS[res.model] || res.model],
    ['Observed until', a.as_of || '—'],
    ['Currency', a.currency || '—'],
    ['Discount rate', isNum(a.discount_rate) ? format('percent', a.discount_rate) + ' a year' : '—'],
    ['Horizon', isNum(a.horizon_months) ? `${a.horizon_months} months` : '—'],
    ['Gross margin', a.margin || (isNum(a.default_margin) ? format('percent', a.default_margin) : '—')],
  ];
  if (res.model === 'formula') items.push(['Churn basis', res.churn_basis || '—'], ['Window', res.window ? res.window.join(' to ') : '—']);
  if (res.model === 'sbg') items.push(['Fit (pooled)', fitText(res.pooled && res.pooled.fit, [['alpha', 'α'], ['beta', 'β']])]);
  if (res.model === 'bgnbd') {
    items.push(['Time unit', res.time_unit || '—'], ['Fit', fitText(res.fit, [['r', 'r'], ['alpha', 'α'], ['a', 'a'], ['b', 'b']])]);
    if (res.check) items.push(['Hold-out', `calibration to ${res.check.calibration_end}, hold-out to ${res.check.holdout_end}`]);
  }
  if (payback) items.push(['Payback', `CAC ÷ gross profit per customer-month over the first 12 months; acquisition ${range(payback.from, payback.to)}`]);
  const out = [];
  for (const [k, v] of items) out.push(el('dt', {}, k), el('dd', {}, v));
  for (const n of a.notes || []) out.push(el('dd', { class: 'note' }, n));
  dl.replaceChildren(...out);
}

function renderCheck(container, table, check) {
  const rows = check.by_frequency || [];
  const name = (r) => (r.plus ? `${r.x}+` : String(r.x));
  fillTable(table, ['Repeat purchases in calibration', 'Customers', 'Actual (hold-out mean)', 'Predicted (hold-out mean)'], rows.map((r) => [name(r), [
    cell('check', 'customers', r.customers, 'count', '', { 'data-x': String(r.x) }),
    cell('check', 'actual', r.actual, 'number', '', { 'data-x': String(r.x) }),
    cell('check', 'predicted', r.predicted, 'number', '', { 'data-x': String(r.x) }),
  ]]), null, 'No customer in the calibration period.');
  if (noChart(container)) return;
  const r2 = (v) => (isNum(v) ? Math.round(v * 1000) / 1000 : null);
  chartFor(container).setOption({
    ...BASE(),
    grid: { left: 4, right: 12, top: 44, bottom: 24, containLabel: true },
    tooltip: { trigger: 'axis', borderColor: '#e3e8ee', textStyle: { color: '#0a2540', fontSize: 13 }, valueFormatter: (v) => show('number', v) },
    xAxis: { ...axisX(rows.map(name)), name: 'repeat purchases in the calibration period', nameLocation: 'middle', nameGap: 26, nameTextStyle: { color: '#697386' } },
    yAxis: axisY('{value}'),
    graphic: rows.length ? [] : emptyText('No hold-out period'),
    series: [
      { name: 'Actual', type: 'bar', barMaxWidth: 28, data: rows.map((r) => r2(r.actual)), itemStyle: { color: '#0a2540', borderRadius: [3, 3, 0, 0] } },
      { name: 'Predicted (BG/NBD)', type: 'line', data: rows.map((r) => r2(r.predicted)), symbol: 'circle', symbolSize: 7, lineStyle: { width: 2.5, color: '#635bff' }, itemStyle: { color: '#635bff' } },
    ],
  }, true);
}

/** cohortColor shades the acquisition months from light (oldest) to dark (newest). */
function cohortColor(i, n) {
  const f = n > 1 ? i / (n - 1) : 1;
  const mix = (a, b) => Math.round(a + (b - a) * f);
  return `rgb(${mix(165, 46)}, ${mix(160, 42)}, ${mix(250, 138)})`;
}

function renderTracking(container, table, check) {
  const pts = check.tracking || [];
  const r1 = (v) => (isNum(v) ? Math.round(v * 10) / 10 : null);
  fillTable(table, ['Week to', 'Actual', 'Expected'], pts.map((p) => [p.week, [
    cell('tracking', 'actual', p.actual, 'number', '', { 'data-week': p.week }),
    cell('tracking', 'predicted', p.predicted, 'number', '', { 'data-week': p.week }),
  ]]));
  if (noChart(container)) return;
  const cal = pts.findIndex((p) => p.week > check.calibration_end);
  chartFor(container).setOption({
    ...BASE(),
    grid: { left: 4, right: 24, top: 44, bottom: 4, containLabel: true },
    tooltip: { trigger: 'axis', borderColor: '#e3e8ee', textStyle: { color: '#0a2540', fontSize: 13 }, valueFormatter: (v) => show('number', v) },
    xAxis: { ...axisX(pts.map((p) => p.week)), boundaryGap: false },
    yAxis: axisY((v) => format('count', v, '', { compact: true })),
    graphic: pts.length ? [] : emptyText('No tracking curve'),
    series: [
      {
        name: 'Actual', type: 'line', showSymbol: false, data: pts.map((p) => r1(p.actual)), lineStyle: { width: 2.5, color: '#0a2540' }, itemStyle: { color: '#0a2540' },
        markLine: cal > 0 ? { silent: true, symbol: 'none', label: { formatter: 'hold-out', position: 'insideEndTop', color: '#697386' }, lineStyle: { color: '#697386', type: 'dashed' }, data: [{ xAxis: cal }] } : undefined,
      },
      { name: 'Expected (BG/NBD, calibration fit)', type: 'line', showSymbol: false, data: pts.map((p) => r1(p.predicted)), lineStyle: { width: 2, type: 'dashed', color: '#635bff' }, itemStyle: { color: '#635bff' } },
    ],
  }, true);
}

function renderCurves(container, table, unsorted) {
  const rows = [...unsorted].sort((a, b) => String(a.group).localeCompare(String(b.group)));
  const n = Math.max(0, ...rows.map((r) => (r.roas_curve || []).length));
  fillTable(table, ['Cohort', ...Array.from({ length: n }, (_, i) => `Month ${i}`)], rows.map((r) => [r.group,
    (r.roas_curve || []).map((p, i) => cell('roas', `roas_curve.${i}.roas`, p.roas, 'ratio', '', { 'data-group': r.group, 'data-n': String(p.month) }))]));
  if (noChart(container)) return;
  const shown = rows.filter((r) => (r.roas_curve || []).some((p) => isNum(p.roas)));
  chartFor(container).setOption({
    ...BASE(),
    color: rows.map((_, i) => cohortColor(i, rows.length)),
    legend: { type: 'scroll', top: 0, left: 0, icon: 'roundRect', itemWidth: 12, itemHeight: 12, itemGap: 16, textStyle: { color: '#425466', fontSize: 13 } },
    grid: { left: 4, right: 24, top: 44, bottom: 24, containLabel: true },
    tooltip: { trigger: 'axis', borderColor: '#e3e8ee', textStyle: { color: '#0a2540', fontSize: 13 }, valueFormatter: (v) => (isNum(v) ? v + '×' : 'not yet') },
    xAxis: { ...axisX(Array.from({ length: n }, (_, i) => String(i))), boundaryGap: false, name: 'months since acquisition', nameLocation: 'middle', nameGap: 26, nameTextStyle: { color: '#697386' } },
    yAxis: axisY((v) => v + '×'),
    graphic: shown.length ? [] : emptyText('No acquisition month with spend'),
    series: shown.map((r) => ({
      name: r.group, type: 'line', symbol: 'circle', symbolSize: 4, showSymbol: n <= 24,
      data: r.roas_curve.map((p) => (isNum(p.roas) ? Math.round(p.roas * 100) / 100 : null)),
      markLine: r === shown[0] ? { silent: true, symbol: 'none', label: { formatter: 'paid back', position: 'insideEndTop', color: '#697386' }, lineStyle: { color: '#697386', type: 'dashed' }, data: [{ yAxis: 1 }] } : undefined,
    })),
  }, true);
}

/**
 * loadLTV fetches and draws the view for params (workspace, from, to)
 * and opts (model); it returns the range shown and the subtitle.
 * current() says whether this load is still wanted.
 */
export async function loadLTV(params, opts, current) {
  const model = opts.model;
  const pq = { ...params, by: 'channel', models: model };
  const [pay, cohorts, ltv] = await Promise.all([
    getJSON('api/v1/payback', pq),
    getJSON('api/v1/payback', { ...params, by: 'cohort', models: 'historical' }),
    // "Today" of the lifetime values is the end of the range, as the payback's.
    getJSON('api/v1/ltv', { model, by: 'channel', workspace: params.workspace, as_of: params.to })
      // A model the data cannot identify (no subscriber, no repeat buyer)
      // says why in its card; the rest of the view stands.
      .catch((err) => {
        if (err.status === 400) return { model, failed: err.message };
        throw err;
      }),
  ]);
  if (!current()) return pay;
  const currency = (ltv.assumptions && ltv.assumptions.currency) || (pay.assumptions && pay.assumptions.currency) || '';
  $('payback-sub').textContent = `Customers first paying ${range(pay.from, pay.to)} · LTV by the ${model} model · payback: CAC ÷ monthly gross profit per customer · dashed: LTV:CAC 3× · ${currency}`;
  renderPayback($('payback-chart'), $('payback-table'), pay, model, currency);
  $('ltv-title').textContent = MODELS[model] || 'Lifetime value';
  if (ltv.failed) {
    fillTable($('ltv-table'), ['Channel'], [], null, ltv.failed);
    $('ltv-sub').textContent = 'This model cannot be fitted to this workspace';
  } else {
    $('ltv-sub').textContent = renderModelTable($('ltv-table'), ltv, currency);
  }
  renderAssumptions($('ltv-assumptions'), ltv, pay);
  const check = model === 'bgnbd' && ltv.check;
  $('bgnbd-check-card').hidden = model !== 'bgnbd' || !!ltv.failed;
  if (model === 'bgnbd' && !check && !ltv.failed) {
    $('bgnbd-check-sub').textContent = ltv.check_error || 'No hold-out period to check the fit on';
    renderCheck($('bgnbd-check'), $('bgnbd-check-table'), {});
    renderTracking($('bgnbd-tracking'), $('bgnbd-tracking-data'), {});
  }
  if (check) {
    $('bgnbd-check-sub').textContent = `Mean repeat purchases per customer in the hold-out (${check.calibration_end} to ${check.holdout_end}), actual and predicted from the calibration fit, by repeat purchases in the calibration period · actual ${show('number', check.actual)}, predicted ${show('number', check.predicted)} in total`;
    renderCheck($('bgnbd-check'), $('bgnbd-check-table'), check);
    renderTracking($('bgnbd-tracking'), $('bgnbd-tracking-data'), check);
  }
  $('roas-sub').textContent = 'Revenue to date of the customers acquired in a month ÷ the spend of that month, by months since acquisition · dashed: paid back';
  renderCurves($('roas-chart'), $('roas-data'), cohorts.rows || []);
  $('payback-csv').href = url('api/v1/payback', { ...pq, format: 'csv' }).href;
  $('ltv-csv').href = url('api/v1/ltv', { model, by: 'channel', workspace: params.workspace, as_of: params.to, format: 'csv' }).href;
  return { from: pay.from, to: pay.to, subtitle: `Acquisition ${range(pay.from, pay.to)} · lifetime value as of ${((ltv.assumptions || pay.assumptions || {}).as_of) || '—'}` };
}
