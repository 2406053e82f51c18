// Roster for supervisors: per district and team type — teams, people, on duty now, reachable by
// SMS and by app, and why the rest are not — with a drill-down list of the people (masked phones).
// The data is the registry's (GET /v1/roster, /v1/roster/people), read through the consoles'
// own origin (/console-api/registry/…, forwarded with the caller's token), so the CSP stays 'self'.
import { h, toast } from './dom.js';
import { t } from './i18n.js';
import { request } from './api.js';
import { districtsOf } from './auth.js';
import { startShell } from './shell.js';
import './roster_i18n.js';

const BASE = '/console-api/registry/v1/roster';
// [field, label, SMS state a click on the count drills into]
const COUNTS = [['teams', 'roster_teams'], ['people', 'roster_people'], ['on_duty_now', 'roster_on_duty'],
  ['reachable_sms', 'roster_sms'], ['reachable_app', 'roster_app'], ['opted_out', 'roster_opted_out', 'opted_out'],
  ['carrier_blocked', 'roster_blocked', 'carrier_blocked'], ['invalid', 'roster_invalid', 'invalid'],
  ['unreachable', 'roster_unreachable', 'unreachable']];
const PROBLEMS = COUNTS.filter((c) => c[2]).map((c) => c[0]);

const get = (path, params) => request('GET', `${BASE}${path}?${new URLSearchParams(
  Object.entries(params).filter(([, v]) => v))}`);
const sum = (rows, key) => rows.reduce((a, r) => a + r[key], 0);

function summary(rows) {
  const card = (key, value, id, cls = '') => h('div', { class: `stat-card ${cls}`, id }, h('b', {}, value), h('span', {}, t(key)));
  const lost = PROBLEMS.reduce((a, k) => a + sum(rows, k), 0);
  return h('div', { class: 'stat-cards', id: 'roster-summary' },
    card('roster_people', sum(rows, 'people'), 'roster-people-n'),
    card('roster_on_duty', sum(rows, 'on_duty_now'), 'roster-on-duty-n', 'sc-staffed'),
    card('roster_sms', sum(rows, 'reachable_sms'), 'roster-sms-n', 'sc-mobilising'),
    card('roster_not_reachable', lost, 'roster-lost-n', lost ? 'sc-unmet' : ''));
}

function countCell(row, [key, , state], open) {
  const n = row[key];
  if (!state || !n) return h('td', { class: `num ${state && n ? 'warn' : ''}`, 'data-col': key }, n);
  return h('td', { class: 'num', 'data-col': key }, h('button', { type: 'button', class: 'link-btn warn',
    onclick: (e) => { e.stopPropagation(); open(row, state); } }, n));
}

function rosterTable(rows, geo, open) {
  const head = h('tr', {}, h('th', {}, t('col_district')), h('th', {}, t('roster_team')),
    COUNTS.map(([, label]) => h('th', { class: 'num' }, t(label))));
  const body = rows.map((r) => h('tr', { class: 'clickable', 'data-district': r.district, 'data-team': r.team_type,
    onclick: () => open(r, null) }, h('td', {}, geo.name(r.district)), h('td', {}, t(`team_${r.team_type}`)),
  COUNTS.map((c) => countCell(r, c, open))));
  const total = h('tr', { class: 'total' }, h('td', { colspan: 2 }, t('roster_total')),
    COUNTS.map(([key]) => h('td', { class: 'num', 'data-col': key }, sum(rows, key))));
  return h('table', { class: 'table roster', id: 'roster' }, h('thead', {}, head), h('tbody', {}, body, total));
}

/** The whole number only by the registry's audited reveal, with the reason the officer gives. */
function askReason(cell, p) {
  const input = h('input', { name: 'reason', class: 'reveal-reason', maxlength: 500, placeholder: t('roster_reveal_reason') });
  const msg = h('small', { class: 'field-error', role: 'alert' });
  const go = async (e) => {
    e.preventDefault();
    try {
      const r = await request('POST', `/console-api/registry/v1/volunteers/${encodeURIComponent(p.id)}/phone:reveal`,
        { body: { reason: input.value.trim() } });
      cell.replaceChildren(h('b', { class: 'revealed' }, r.phone), h('small', { class: 'muted' }, ` · ${t('roster_revealed')}`));
    } catch (err) { msg.textContent = err.message; }
  };
  cell.replaceChildren(h('span', { class: 'masked' }, p.phone), h('form', { class: 'reveal-form', onsubmit: go }, input,
    h('button', { type: 'submit', class: 'btn-secondary btn-small' }, t('roster_reveal_go')), msg));
  input.focus();
}

function phoneCell(p) {
  const cell = h('td', { class: 'phone' }, h('span', { class: 'masked' }, p.phone), ' ',
    h('button', { type: 'button', class: 'link-btn reveal-btn', onclick: () => askReason(cell, p) }, t('roster_reveal')));
  return cell;
}

function peopleTable(people) {
  if (!people.length) return h('p', { class: 'empty' }, t('roster_people_none'));
  const cols = ['roster_name', 'roster_team', 'roster_phone', 'roster_status', 'roster_on_duty_col', 'roster_sms_col', 'roster_app_col'];
  const reach = (s) => h('span', { class: `reach reach-${s}` }, t(`reach_${s}`));
  return h('table', { class: 'table', id: 'roster-people' }, h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, t(c))))),
    h('tbody', {}, people.map((p) => h('tr', { 'data-id': p.id },
      h('td', {}, p.name), h('td', {}, p.team_name), phoneCell(p),
      h('td', {}, t(`vstatus_${p.status}`)), h('td', {}, t(p.on_duty_now ? 'yes' : 'no')),
      h('td', {}, p.channels.includes('sms') ? reach(p.sms) : '—'),
      h('td', {}, p.channels.includes('app') ? reach(p.app) : '—')))));
}

function districtChooser(claims, geo, value, onChange) {
  const mine = districtsOf(claims);
  const codes = mine === null ? geo.divisions.map((d) => d.code) : mine;
  if (codes.length < 2) return null;
  return h('select', { id: 'roster-district', onchange: (e) => onChange(e.target.value) },
    h('option', { value: '' }, t('roster_district_all')),
    codes.map((c) => h('option', { value: c, selected: c === value }, geo.name(c))));
}

async function renderRoster(main, sess, geo) {
  const state = { district: '', rows: [], drill: null };
  const open = async (row, sms) => {
    try {
      const people = await get('/people', { district: row.district, team_type: row.team_type, sms });
      state.drill = { row, sms, people };
    } catch (err) { toast(err.message, 'error'); }
    draw();
  };
  const load = async () => {
    try { state.rows = await get('', { district: state.district }); } catch (err) { toast(err.message, 'error'); }
    state.drill = null;
    draw();
  };
  function drillCard() {
    const d = state.drill;
    if (!d) return null;
    const title = t('roster_drill', { district: geo.name(d.row.district), team: t(`team_${d.row.team_type}`) });
    return h('div', { class: 'card table-scroll', id: 'roster-drill' }, h('div', { class: 'page-head' },
      h('h2', {}, title, d.sms ? h('small', { class: 'muted' }, ` · ${t('roster_drill_state', { state: t(`reach_${d.sms}`) })}`) : null),
      h('button', { type: 'button', class: 'btn-secondary btn-small', onclick: () => { state.drill = null; draw(); } }, t('roster_close'))),
    peopleTable(d.people), d.people.length >= 500 ? h('p', { class: 'muted small' }, t('roster_limit')) : null);
  }
  function draw() {
    const table = state.rows.length ? rosterTable(state.rows, geo, open) : h('p', { class: 'empty' }, t('roster_none'));
    main.replaceChildren(h('section', { class: 'page' },
      h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, t('roster_title')), h('p', { class: 'muted' }, t('roster_help'))),
        districtChooser(sess.claims, geo, state.district, (v) => { state.district = v; load(); })),
      summary(state.rows), h('div', { class: 'card table-scroll' }, table), drillCard()));
  }
  await load();
  return draw;
}

let redraw = null;
startShell({ page: 'roster', render: async (main, sess, geo) => { redraw = await renderRoster(main, sess, geo); },
  onLang: () => redraw && redraw() });
