// The Orders & renewals view: GET /api/v1/orders (AOV, repeat-purchase
// rate, purchase frequency, margin; revenue by product line and its
// share), GET /api/v1/renewals (contract renewal rate and uplift, B2B)
// and GET /api/v1/referrals (invites, invite conversion, K-factor, viral
// cycle time for B2C; the referred share of new business for B2B). Only
// what the workspace has data for is shown. Every figure is the API's.

import { getJSON, url } from './api.js';
import { format, isNum } from './format.js';
import { range } from './dates.js';
import { el, html } from './dom.js';
import { BASE, axisY, cell, chartFor, emptyText, fillTable, noChart, tile } from './figure.js';

const $ = (id) => document.getElementById(id);

function orderTiles(o) {
  const t = o.total, c = o.currency;
  return [
    tile('aov', 'Average order value', 'Revenue of paid orders ÷ paid orders', 'orders', 'total.aov', t.aov, 'money', c,
      `${format('count', t.orders)} paid orders · ${format('money', t.revenue, c)}`),
    tile('repeat_rate', 'Repeat-purchase rate', 'Ordering customers with two paid orders or more (from their first up to the end of the period) ÷ ordering customers',
      'orders', 'total.repeat_rate', t.repeat_rate, 'percent', c, `${format('count', t.repeat_customers)} of ${format('count', t.customers)} customers`),
    tile('frequency', 'Purchase frequency', 'Paid orders ÷ ordering customers', 'orders', 'total.frequency', t.frequency, 'number', c,
      `orders per customer · ${format('count', t.new_customers)} new customers`),
    tile('margin_pct', 'Gross margin', 'Gross margin ÷ revenue, paid orders with a known margin', 'orders', 'total.margin_pct', t.margin_pct, 'percent', c,
      isNum(t.margin_coverage) ? `margin known for ${format('percent', t.margin_coverage)} of order revenue` : 'no paid order'),
  ];
}

function renewalTiles(r) {
  const t = r.total, c = r.currency;
  return [
    tile('renewal_rate', 'Renewal rate', 'Renewals won ÷ renewals closed (won or lost) in the period; open renewals are not due yet', 'renewals', 'total.rate', t.rate, 'percent', c,
      `${format('count', t.won)} won · ${format('count', t.lost)} lost · ${format('count', r.open)} open`),
    tile('renewal_uplift', 'Renewal uplift', 'Renewed amount ÷ previous contract amount − 1, weighted by amount', 'renewals', 'total.uplift_weighted', t.uplift_weighted, 'signed_percent', c,
      `mean ${isNum(t.uplift_mean) ? format('percent', t.uplift_mean) : '—'} · median ${isNum(t.uplift_median) ? format('percent', t.uplift_median) : '—'} over ${format('count', t.uplifts)}`),
  ];
}

function referralTiles(r) {
  const t = r.total, c = r.currency;
  const out = [];
  if (t.invites > 0) {
    out.push(
      tile('k_factor', 'K-factor', 'Invites per active user × invite conversion', 'referrals', 'total.k_factor', t.k_factor, 'number', c,
        `${format('count', t.invites)} invites from ${format('count', t.inviters)} people`),
      tile('invite_conversion', 'Invite conversion', 'Referred people who signed up ÷ invites sent', 'referrals', 'total.invite_conversion', t.invite_conversion, 'percent', c,
        `${format('count', t.referred_signups)} referred sign-ups`),
      tile('invites_per_user', 'Invites per user', 'Invites sent ÷ people active in the period', 'referrals', 'total.invites_per_user', t.invites_per_user, 'number', c,
        `${format('count', t.active_users)} active people`),
      tile('cycle_days', 'Viral cycle time', "Median days from the referrer's sign-up to the referred person's", 'referrals', 'total.cycle_days', t.cycle_days, 'days', c,
        `over ${format('count', t.cycle_n)} referred sign-ups`),
    );
  }
  if (t.new_deals > 0) {
    out.push(tile('referred_share', 'Referred share of new business', 'Won new-business revenue of customers from a referral channel ÷ all won new-business revenue',
      'referrals', 'total.referred_share', t.referred_share, 'percent', c, `${format('money', t.referred_revenue, c)} of ${format('money', t.new_revenue, c)}`));
  }
  return out;
}

function renderLines(container, table, o, byLine) {
  const c = o.currency;
  const lines = o.lines || [];
  const at = (l, m) => ({ 'data-line': l.product_line, 'data-metric': m });
  fillTable(table, ['Product line', 'Orders revenue', 'Deals revenue', 'Revenue', 'Share', 'Paid orders', 'AOV', 'Gross margin'], lines.map((l) => {
    const r = byLine.get(l.product_line) || {};
    return [l.product_line, [
      cell('line', 'orders_revenue', l.orders_revenue, 'money', c, at(l, 'orders_revenue')),
      cell('line', 'deals_revenue', l.deals_revenue, 'money', c, at(l, 'deals_revenue')),
      cell('line', 'revenue', l.revenue, 'money', c, at(l, 'revenue')),
      cell('line', 'share', l.share, 'percent', c, at(l, 'share')),
      cell('line', 'orders', isNum(r.orders) ? r.orders : 0, 'count', c, at(l, 'orders')),
      cell('line', 'aov', isNum(r.aov) ? r.aov : null, 'money', c, at(l, 'aov')),
      cell('line', 'margin_pct', isNum(r.margin_pct) ? r.margin_pct : null, 'percent', c, at(l, 'margin_pct')),
    ], { 'data-line': l.product_line }];
  }), null, 'No revenue in this period.');
  if (noChart(container)) return;
  // Tall enough for every line, no taller.
  container.style.height = Math.min(420, 90 + 48 * Math.max(lines.length, 1)) + 'px';
  chartFor(container).resize();
  const money = (v) => format('money', v, c);
  const sources = [['orders_revenue', 'Orders', '#635bff'], ['deals_revenue', 'Won deals', '#0e9f6e']]
    .filter(([k]) => lines.some((l) => l[k] !== 0));
  chartFor(container).setOption({
    ...BASE(),
    grid: { left: 4, right: 24, top: 44, bottom: 4, containLabel: true },
    tooltip: {
      trigger: 'axis', axisPointer: { type: 'shadow' }, borderColor: '#e3e8ee', textStyle: { color: '#0a2540', fontSize: 13 },
      formatter: (ps) => {
        const l = lines[ps[0].dataIndex];
        return html(l.product_line) + '<br>' + ps.map((p) => html(`${p.seriesName}: ${money(p.value)}`)).join('<br>') +
          '<br>' + html(`Share of revenue: ${isNum(l.share) ? format('percent', l.share) : '—'}`);
      },
    },
    xAxis: axisY((v) => format('money', v, c, { compact: true })),
    yAxis: { type: 'category', inverse: true, data: lines.map((l) => l.product_line), axisTick: { show: false }, axisLine: { lineStyle: { color: '#e3e8ee' } }, axisLabel: { color: '#425466', fontSize: 12 } },
    graphic: lines.length ? [] : emptyText('No revenue in this period'),
    series: sources.map(([k, name, color]) => ({
      name, type: 'bar', stack: 'revenue', barMaxWidth: 28, data: lines.map((l) => l[k]), itemStyle: { color },
    })),
  }, true);
}

/**
 * loadOrders fetches and draws the view for params (workspace, from,
 * to); it returns the range shown and the subtitle. current() says
 * whether this load is still wanted.
 */
export async function loadOrders(params, current) {
  const [o, byLine, ren, ref] = await Promise.all([
    getJSON('api/v1/orders', params),
    getJSON('api/v1/orders', { ...params, by: 'product_line' }),
    getJSON('api/v1/renewals', params),
    getJSON('api/v1/referrals', params),
  ]);
  if (!current()) return o;
  const hasOrders = o.total.orders > 0 || o.total.refunds > 0;
  const hasRenewals = ren.total.due > 0 || ren.open > 0;
  const refs = referralTiles(ref);
  $('orders-tiles').replaceChildren(...(hasOrders ? orderTiles(o) : []));
  $('orders-tiles').hidden = !hasOrders;
  $('renewals-tiles').replaceChildren(...(hasRenewals ? renewalTiles(ren) : []), ...refs);
  $('renewals-tiles').hidden = !hasRenewals && refs.length === 0;
  const lines = o.lines || [];
  $('lines-card').hidden = lines.length === 0;
  if (lines.length) {
    const service = lines.find((l) => l.product_line === 'service');
    const src = { orders: 'paid orders', deals: 'won deals' };
    const from = (o.revenue_sources || []).map((x) => src[x] || x).join(' and ');
    $('lines-sub').textContent = `Revenue of ${from || 'no source'} by product line · ${o.currency}` +
      (service && isNum(service.share) ? ` · service ${format('percent', service.share)} of revenue` : '');
    renderLines($('lines-chart'), $('lines-table'), o, new Map(byLine.rows.map((r) => [r.group, r])));
  }
  $('orders-none').hidden = hasOrders || hasRenewals || refs.length > 0 || lines.length > 0;
  $('orders-csv').href = url('api/v1/orders', { ...params, by: 'product_line', format: 'csv' }).href;
  return { from: o.from, to: o.to, subtitle: `${range(o.from, o.to)} · ${o.currency}` };
}
