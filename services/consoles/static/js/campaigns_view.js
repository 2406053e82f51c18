// The campaign screen's read side: the dry run's figures, the list of campaigns, one campaign's
// runs and its reach table (per district and team type, residents on their own rows).
import { h, dateTime, duration } from './dom.js';
import { t, lang } from './i18n.js';

const REACH = [['sent', 'camp_sent'], ['delivered', 'camp_delivered'], ['failed', 'camp_failed'],
  ['acknowledged', 'camp_ack'], ['opened', 'camp_opened']];

/** The campaign's title or advice in the page's language (English falls back to Chinese). */
const inLang = (c, part) => (lang() === 'en' && c[`${part}_en`]) || c[`${part}_zh`];

function figure(id, label, value, note) {
  return h('div', { class: 'camp-figure', id }, h('small', {}, t(label)), h('b', {}, value), note ? h('small', { class: 'muted' }, note) : null);
}

export function dryRunPanel(dry) {
  if (!dry) return null;
  return h('section', { class: 'camp-dry', id: 'camp-dry-result', 'aria-live': 'polite' },
    h('h3', {}, t('camp_dry_title')),
    h('div', { class: 'camp-figures' },
      figure('dry-volunteers', 'camp_volunteers', dry.volunteers),
      figure('dry-skipped', 'camp_skipped', dry.quiet_hours_skipped),
      figure('dry-segments', 'camp_segments', dry.segments_per_message),
      figure('dry-total', 'camp_total', dry.total_segments),
      figure('dry-carrier', 'camp_carrier', duration(Math.ceil(dry.carrier_seconds))),
      figure('dry-first', 'camp_first', dateTime(dry.first_send_at)),
      figure('dry-residents', 'camp_residents_est', dry.residents_estimate ?? '—', dry.residents_estimate == null ? t('camp_residents_unknown') : null)));
}

function when(c) {
  const s = c.schedule;
  const days = t('camp_weekdays').split(',');
  if (s.kind === 'weekly') return `${t('camp_kind_weekly')} ${days[s.weekday - 1]} ${s.time.slice(0, 5)}`;
  if (s.kind === 'monthly') return `${t('camp_kind_monthly')} ${s.day} · ${s.time.slice(0, 5)}`;
  return t(`camp_kind_${s.kind}`);
}

export function campaignList(campaigns, current, geo, onPick) {
  if (!campaigns.length) return h('p', { class: 'empty', id: 'camp-none' }, t('camp_none'));
  const cols = ['camp_name', 'camp_schedule', 'district', 'camp_status', 'camp_next'];
  return h('table', { class: 'table', id: 'camp-list' }, h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, t(c))))),
    h('tbody', {}, campaigns.map((c) => h('tr', { 'data-id': c.id, class: `clickable${current === c.id ? ' active' : ''}`, onclick: () => onPick(c.id) },
      h('td', {}, h('b', {}, c.name), h('div', { class: 'muted small' }, inLang(c, 'title'))), h('td', {}, when(c)),
      h('td', { class: 'small' }, c.districts.length ? c.districts.map((d) => geo.name(d)).join('、') : t('all_districts')),
      h('td', {}, h('span', { class: `camp-status camp-${c.status}` }, t(`camp_st_${c.status}`))),
      h('td', {}, c.next_run_at ? dateTime(c.next_run_at) : '—')))));
}

function runsTable(runs) {
  if (!runs.length) return null;
  return h('table', { class: 'table', id: 'camp-runs' }, h('thead', {}, h('tr', {},
    ['camp_run_due', 'camp_run_outcome', 'camp_volunteers', 'camp_skipped'].map((c) => h('th', {}, t(c))))),
  h('tbody', {}, runs.map((r) => h('tr', {}, h('td', {}, dateTime(r.due_at)), h('td', {}, t(`camp_out_${r.outcome}`)),
    h('td', { class: 'num' }, r.volunteers), h('td', { class: 'num' }, r.quiet_skipped)))));
}

function failedCell(row) {
  const codes = Object.entries(row.failed_by_code).map(([code, n]) => `${code}×${n}`).join(' ');
  return h('td', { class: `num${row.failed ? ' warn' : ''}`, title: codes }, row.failed, codes ? h('small', { class: 'muted' }, ` (${codes})`) : null);
}

export function reachTable(rows, geo) {
  if (!rows.length) return h('p', { class: 'empty', id: 'camp-reach-none' }, t('camp_reach_none'));
  const team = (r) => (r.audience === 'resident' ? t('camp_resident') : t(`team_${r.team_type}`));
  return h('table', { class: 'table', id: 'camp-reach' }, h('thead', {}, h('tr', {}, h('th', {}, t('district')), h('th', {}, t('camp_team')),
    h('th', { class: 'num' }, t('camp_issued')), REACH.map(([, label]) => h('th', { class: 'num' }, t(label))))),
  h('tbody', {}, rows.map((r) => h('tr', { 'data-district': r.district, 'data-team': r.team_type },
    h('td', {}, geo.name(r.district)), h('td', {}, team(r)), h('td', { class: 'num' }, r.issued ?? '—'),
    REACH.map(([key]) => (key === 'failed' ? failedCell(r) : h('td', { class: 'num' }, r[key])))))));
}

export function campaignDetail(c, reach, geo, onCancel) {
  if (!c) return h('p', { class: 'empty' }, t('camp_pick'));
  return h('article', { id: 'camp-detail', 'data-id': c.id },
    h('div', { class: 'page-head' }, h('div', {}, h('h2', {}, c.name), h('p', { class: 'muted small' }, `${inLang(c, 'title')} · ${when(c)} · ${t('camp_created')} ${dateTime(c.created_at)}`)),
      c.status === 'active' ? h('button', { type: 'button', class: 'btn-ghost btn-small', id: 'camp-cancel', onclick: onCancel }, t('camp_cancel')) : null),
    h('p', { class: 'case-text' }, inLang(c, 'advice')),
    h('h3', {}, t('camp_runs')), runsTable(c.runs) || h('p', { class: 'muted small' }, c.next_run_at ? `${t('camp_next')} ${dateTime(c.next_run_at)}` : '—'),
    h('h3', {}, t('camp_reach')), reachTable(reach, geo));
}
