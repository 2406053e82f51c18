// The bureau's monthly figures (issue 14): per district and for the city — call-outs, people
// mobilised (人次) by the five teams, median time to staffed, campaigns and their reach — as a
// printable page (print CSS hides the controls) and as the API's CSV. Over /v1/reports/monthly.
import { h, toast, duration, dateTime } from './dom.js';
import { t } from './i18n.js';
import { request, ApiError } from './api.js';
import { token } from './auth.js';
import { startShell } from './shell.js';
import './cases_i18n.js';

const FIVE = ['patrol', 'community_security', 'security_volunteer', 'building_watch', 'information_officer'];
const CITY = '360700';
const total = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);

function thisMonth(now = new Date()) {
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}`;
}

const csvPath = (month) => `/v1/reports/monthly?${new URLSearchParams({ month, format: 'csv' })}`;

/** The CSV needs the bearer token, so a plain link cannot fetch it: fetch, then save the blob. */
async function downloadCsv(e, month) {
  e.preventDefault();
  try {
    const res = await fetch(csvPath(month), { headers: { Authorization: `Bearer ${token()}` } });
    if (!res.ok) throw new ApiError(res.status, `HTTP ${res.status}`);
    const url = URL.createObjectURL(await res.blob());
    const a = h('a', { href: url, download: `baiying-${month}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (err) { toast(err.message, 'error'); }
}

function reportTable(rows) {
  if (!rows.length) return h('p', { class: 'empty', id: 'report-empty' }, t('rep_none'));
  const head = [h('tr', {}, h('th', { rowspan: 2 }, t('rep_district')), ['rep_callouts', 'rep_advisories', 'rep_staffed', 'rep_median']
    .map((k) => h('th', { rowspan: 2, class: 'num' }, t(k))), h('th', { colspan: FIVE.length + 1, class: 'num' }, t('rep_mobilised')),
  h('th', { rowspan: 2, class: 'num' }, t('rep_arrived'))),
  h('tr', {}, FIVE.map((k) => h('th', { class: 'num' }, t(`team_${k}`))), h('th', { class: 'num' }, t('rep_total')))];
  const line = (r) => h('tr', { 'data-district': r.district, class: r.district === CITY ? 'total' : '' },
    h('td', {}, r.name), h('td', { class: 'num', 'data-col': 'callouts' }, r.callouts), h('td', { class: 'num' }, r.advisories),
    h('td', { class: 'num', 'data-col': 'staffed' }, r.staffed), h('td', { class: 'num' }, duration(r.median_to_staffed_s)),
    FIVE.map((k) => h('td', { class: 'num', 'data-col': `mobilised_${k}` }, r.mobilised[k] || 0)),
    h('td', { class: 'num', 'data-col': 'mobilised' }, total(r.mobilised)), h('td', { class: 'num' }, total(r.arrived)));
  return h('table', { class: 'table report-table', id: 'report' }, h('thead', {}, head), h('tbody', {}, rows.map(line)));
}

// The campaigns' figures, in the API's (and the CSV's) order; a table of their own, since the
// call-out table is already as wide as a printed page.
const REACH = ['campaigns', 'issued', 'sent', 'delivered', 'failed', 'acknowledged', 'opened'];

function campaignTable(rows) {
  const head = h('tr', {}, h('th', {}, t('rep_district')), REACH.map((k) => h('th', { class: 'num' }, t(`rep_c_${k}`))));
  const line = (r) => h('tr', { 'data-district': r.district, class: r.district === CITY ? 'total' : '' }, h('td', {}, r.name),
    REACH.map((k) => h('td', { class: 'num', 'data-col': k }, r.campaigns[k])));
  return h('table', { class: 'table report-table', id: 'report-campaigns' }, h('thead', {}, head), h('tbody', {}, rows.map(line)));
}

async function renderReport(main) {
  const state = { month: new URLSearchParams(location.search).get('month') || thisMonth(), rows: [] };
  const load = async () => {
    try { state.rows = await request('GET', `/v1/reports/monthly?${new URLSearchParams({ month: state.month })}`); } catch (err) {
      state.rows = [];
      toast(err.message, 'error');
    }
    draw();
  };
  const controls = () => h('div', { class: 'toolbar no-print' },
    h('label', {}, t('rep_month'), h('input', { type: 'month', id: 'report-month', value: state.month,
      onchange: (e) => { if (e.target.value) { state.month = e.target.value; load(); } } })),
    h('button', { type: 'button', class: 'btn-secondary', id: 'report-print', onclick: () => window.print() }, t('rep_print')),
    h('a', { class: 'btn-secondary', id: 'report-csv', href: csvPath(state.month), onclick: (e) => downloadCsv(e, state.month) }, t('rep_csv')));
  function draw() {
    main.replaceChildren(h('section', { class: 'page report-page' },
      h('div', { class: 'page-head' }, h('div', {}, h('h1', { id: 'report-title' }, `${t('rep_title')} · ${state.month}`),
        h('p', { class: 'muted no-print' }, t('rep_help')), h('p', { class: 'muted small print-only' }, t('rep_printed', { at: dateTime(new Date().toISOString()) }))),
      controls()),
      h('div', { class: 'card table-scroll' }, reportTable(state.rows)),
      state.rows.length ? h('div', { class: 'card table-scroll' }, h('h2', {}, t('rep_campaigns')),
        h('p', { class: 'muted small' }, t('rep_campaigns_help')), campaignTable(state.rows)) : null));
  }
  await load();
  return draw;
}

let redraw = null;
startShell({ page: 'report', render: async (main) => { redraw = await renderReport(main); }, onLang: () => redraw && redraw() });
