// The Event funnel view: GET /api/v1/funnel over steps the user builds
// (an event name, optionally with KEY=VALUE property filters, as the
// API's step parameter), a window, a mode and a breakdown. The chart, the
// step table and the breakdown table are drawn by funnels.js, as for the
// stage funnel. Every figure is the API's; the steps and the window are
// sent as typed, so the API's own error names what is wrong.

import { getJSON, url } from './api.js';
import { range } from './dates.js';
import { renderChart, renderGroups, renderSteps } from './funnels.js';
import { el } from './dom.js';

const $ = (id) => document.getElementById(id);

/** DEFAULT_STEPS are the steps shown first, by preset: events of the demo businesses. */
const DEFAULT_STEPS = {
  b2c: ['Landing Page', 'app_install', 'signup_completed', 'trial_started', 'subscription_started'],
  b2b: ['Landing Page', 'Page Viewed', 'form_submitted'],
};

/** SUGGESTIONS are offered while typing a step (there is no event list API). */
const SUGGESTIONS = {
  b2c: [...DEFAULT_STEPS.b2c, 'Page Viewed', 'Onboarding', 'Home', 'Workout Player', 'workout_completed', 'referral_sent'],
  b2b: ['Landing Page', 'Page Viewed', 'form_submitted', 'contact_sales_submitted', 'whitepaper_download', 'roi_calculator_used',
    'webinar_registered', 'webinar_attended', 'tradeshow_booth_visit', 'tradeshow_badge_scan', 'partner_lead_received'],
};

/** MAX_STEPS is the API's limit. */
const MAX_STEPS = 20;

/** defaultSteps returns the first steps for a workspace preset. */
export function defaultSteps(preset) {
  return [...(DEFAULT_STEPS[preset] || DEFAULT_STEPS.b2c)];
}

const TIME = (get) => (s) => get(s.time_from_previous);

/** COLUMNS are the step table's columns. */
const COLUMNS = [
  { key: 'count', label: 'Reached', kind: 'count', get: (s) => s.count },
  { key: 'step_conversion', label: 'From previous', kind: 'percent', get: (s) => s.step_conversion },
  { key: 'overall_conversion', label: 'From first', kind: 'percent', get: (s) => s.overall_conversion },
  { key: 'drop_off', label: 'Dropped', kind: 'count', get: (s) => s.drop_off },
  { key: 'median_days', label: 'Median time', kind: 'days', get: TIME((q) => q.median) },
  { key: 'p75_days', label: 'p75 time', kind: 'days', get: TIME((q) => q.p75) },
  { key: 'p90_days', label: 'p90 time', kind: 'days', get: TIME((q) => q.p90) },
  { key: 'median_days_from_first', label: 'Median from first', kind: 'days', get: (s) => s.time_from_first.median },
];

/** stepText writes a step of the answer as the step parameter: "Viewed Pricing plan=pro". */
function stepText(m) {
  return [m.event, ...Object.entries(m.where || {}).map(([k, v]) => `${k}=${v}`)].join(' ');
}

/** renderBuilder shows steps as inputs, with the suggestions for preset. */
export function renderBuilder(steps, preset) {
  const list = $('ef-step-list');
  list.replaceChildren(...steps.map((s, i) => {
    const li = el('li');
    const input = el('input', { type: 'text', list: 'ef-events', 'aria-label': `Step ${i + 1}`, placeholder: 'Event name [key=value …]', spellcheck: 'false', value: s, 'data-step-input': String(i + 1) });
    const rm = el('button', { type: 'button', class: 'icon', 'data-remove': String(i), 'aria-label': `Remove step ${i + 1}`, title: 'Remove this step' }, '×');
    rm.disabled = steps.length <= 2;
    li.append(input, rm);
    return li;
  }));
  $('ef-add').disabled = steps.length >= MAX_STEPS;
  const names = SUGGESTIONS[preset] || SUGGESTIONS.b2c;
  $('ef-events').replaceChildren(...names.map((n) => new Option(n)));
}

/** readBuilder returns the steps typed, without the empty ones. */
export function readBuilder() {
  return [...$('ef-step-list').querySelectorAll('input')].map((i) => i.value.trim()).filter((v) => v !== '');
}

/**
 * bindBuilder wires the step builder: apply(steps) is called with the
 * steps when the form is submitted or a step removed.
 */
export function bindBuilder(apply) {
  $('ef-steps').addEventListener('submit', (e) => {
    e.preventDefault();
    apply(readBuilder());
  });
  $('ef-add').addEventListener('click', () => {
    const li = el('li');
    const input = el('input', { type: 'text', list: 'ef-events', 'aria-label': 'New step', placeholder: 'Event name [key=value …]', spellcheck: 'false' });
    li.append(input);
    $('ef-step-list').append(li);
    input.focus();
  });
  $('ef-step-list').addEventListener('click', (e) => {
    const b = e.target.closest('[data-remove]');
    if (!b) return;
    b.closest('li').remove();
    apply(readBuilder());
  });
}

/**
 * loadEventFunnel fetches and draws the event funnel for params
 * (workspace, from, to) and opts (steps, window, mode, by); it returns
 * the range shown and the subtitle. current() says whether this load is
 * still wanted.
 */
export async function loadEventFunnel(params, opts, current) {
  const q = { ...params, step: opts.steps, window: opts.window, mode: opts.mode, by: opts.by };
  const res = await getJSON('api/v1/funnel', q);
  if (!current()) return res;
  const steps = res.total.steps;
  const names = res.steps.map(stepText);
  const key = (s, i) => String(i + 1);
  const label = (s, i) => names[i];
  const modes = { ordered: 'steps in order', strict: 'each step the very next event', any: 'steps in any order' };
  const unit = res.unit === 'person' ? 'People' : 'Accounts';
  $('ef-sub').textContent = `${unit} doing ${names[0]} in the period · ${modes[res.mode] || res.mode} within ${opts.window || '14d'} · median time from the previous step`;
  renderChart($('ef-chart'), steps, names, `Nobody did ${names[0]} in this period`);
  renderSteps($('ef-table'), steps, COLUMNS, { what: 'Step', key, label });
  $('ef-groups-card').hidden = !res.by;
  if (res.by) {
    $('ef-groups-title').textContent = `By ${res.by}`;
    renderGroups($('ef-groups'), res, names, key);
  } else {
    $('ef-groups').replaceChildren();
  }
  $('ef-csv').href = url('api/v1/funnel', { ...q, format: 'csv' }).href;
  return { from: res.from, to: res.to, subtitle: `First step ${range(res.from, res.to)} · ${names.join(' → ')}` };
}
