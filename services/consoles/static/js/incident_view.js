// Pieces of an incident shared by the desk and the dashboard: status pill, progress bar,
// key figures, call-out counts, responders table and timeline.
import { h, duration, distance, clock, dateTime, ago } from './dom.js';
import { t } from './i18n.js';
import { STATE_COLOURS } from './map.js';
import { CALLOUT_STATES, timeline } from './model.js';

export function statusPill(status) {
  return h('span', { class: `pill pill-${status}`, 'data-status': status }, t(`st_${status}`));
}

/** "2 / 3": people who fit the need out of those it asks for (the dispatcher's coverage). */
export function progressBar(filled, required, status) {
  const pct = required ? Math.min(100, Math.round((filled / required) * 100)) : 0;
  return h('div', { class: `progress progress-${status}`, role: 'progressbar', 'aria-valuenow': filled, 'aria-valuemax': required },
    h('div', { class: 'progress-fill', style: `width:${pct}%` }),
    h('span', { class: 'progress-text' }, `${filled} / ${required}`));
}

/** Accepted people who fit no open slot, and call-outs still out: said once, beside the figure. */
export function coverageNote(cov) {
  const extra = cov.accepted - cov.filled;
  const parts = [];
  if (cov.outstanding) parts.push(t('cov_outstanding', { n: cov.outstanding }));
  if (extra > 0) parts.push(t('cov_extra', { n: extra }));
  return parts.length ? h('p', { class: 'cov-note small muted' }, parts.join(' · ')) : null;
}

function figure(label, value, id) {
  return h('div', { class: 'figure', id }, h('span', { class: 'figure-label' }, label), h('b', {}, value));
}

export function figures(inc) {
  const rounds = inc.rounds_max ? `${inc.round} / ${inc.rounds_max}` : String(inc.round);
  return h('div', { class: 'figures' },
    figure(t('round'), rounds, 'fig-round'),
    figure(t('radius_now'), distance(inc.radius_m), 'fig-radius'),
    figure(t('ttfa'), duration(inc.ttfa_s), 'fig-ttfa'),
    figure(t('tts'), duration(inc.tts_s), 'fig-tts'));
}

/** Coloured chips "已接受 3 · 已拒绝 1 …" — doubles as the map legend. */
export function stateCounts(counts) {
  const chips = CALLOUT_STATES.filter((s) => counts[s]).map((s) =>
    h('span', { class: 'chip', 'data-state': s }, h('i', { style: `background:${STATE_COLOURS[s]}` }), `${t(`cs_${s}`)} ${counts[s]}`));
  return h('div', { class: 'chips' }, chips.length ? chips : h('span', { class: 'muted' }, t('no_responders')));
}

export function needText(need) {
  const parts = [];
  for (const [team, n] of Object.entries(need.teams || {})) if (n) parts.push(`${t(`team_${team}`)} ×${n}`);
  if (need.total) parts.unshift(t('need_people', { n: need.total }));
  for (const [skill, n] of Object.entries(need.skills || {})) if (n) parts.push(`${t(`skill_${skill}`)} ≥${n}`);
  return parts.join(' · ');
}

/** "还缺：治安巡防队 ×1 · 急救 ×1" from the API's shortfall map (keys team:x, skill:y, any). */
export function missingText(missing) {
  const parts = Object.entries(missing || {}).map(([key, n]) => {
    const [kind, name] = key.split(':');
    const label = kind === 'team' ? t(`team_${name}`) : kind === 'skill' ? t(`skill_${name}`) : t('anyone');
    return `${label} ×${n}`;
  });
  return parts.length ? `${t('missing')}：${parts.join(' · ')}` : '';
}

/** What the responders are told, and who raised it when. */
export function details(inc) {
  const rows = [['description_l', inc.description], ['address_l', inc.address], ['area_l', inc.area],
    ['kind_advisory', inc.advice], ['created_by', `${inc.raw.created_by || '—'} · ${dateTime(inc.created_at)}`]];
  return h('dl', { class: 'details' }, rows.filter(([, v]) => v).map(([k, v]) => [h('dt', {}, t(k)), h('dd', {}, v)]));
}

export function respondersTable(callouts) {
  if (!callouts.length) return h('p', { class: 'muted' }, t('no_responders'));
  const rows = [...callouts].sort((a, b) => (a.rank ?? 0) - (b.rank ?? 0)).map((c) =>
    h('tr', { 'data-state': c.state },
      h('td', {}, h('i', { class: 'dot', style: `background:${STATE_COLOURS[c.state] || '#888'}` }), c.name || (c.volunteer_id || '').slice(0, 8)),
      h('td', {}, t(`team_${c.team_type}`)),
      h('td', { class: 'num' }, distance(c.distance_m)),
      h('td', { class: 'num' }, c.round),
      h('td', {}, t(`cs_${c.state}`))));
  return h('table', { class: 'table responders' },
    h('thead', {}, h('tr', {}, h('th', {}, t('responders')), h('th', {}, t('team')), h('th', { class: 'num' }, t('distance')),
      h('th', { class: 'num' }, t('round')), h('th', {}, t('state')))),
    h('tbody', {}, rows));
}

function eventText(ev) {
  if (ev.kind === 'raised') return t('ev_raised');
  if (ev.kind === 'round') return t('ev_round', { n: ev.n, count: ev.count });
  if (ev.kind === 'status') return t('ev_status', { s: t(`st_${ev.status}`) });
  if (ev.kind === 'audit' && String(ev.action).startsWith('next_step:')) {
    const step = ev.action.slice('next_step:'.length);
    const text = t('ev_next_step', { actor: ev.actor, step: t(`ns_${step}`) });
    if (step === 'phoned_reply') return `${text}（${ev.who || '—'}：${t(`ns_reply_${ev.detail.reply}`)}）`;
    if (step === 'widen' && ev.detail.radius_m) return `${text} → ${distance(ev.detail.radius_m)}`;
    return text;
  }
  if (ev.kind === 'audit') {
    const key = { cancel: 'ev_cancel', close: 'ev_close', manual_change: 'ev_manual' }[ev.action] || 'ev_audit';
    return t(key, { actor: ev.actor, action: ev.action, state: t(`cs_${ev.detail.to}`), reason: ev.detail.reason || '' });
  }
  return t('ev_callout', { who: ev.who, state: t(`cs_${ev.state}`) });
}

/** Newest first; each line says how long ago ("2 分钟前") and, on hover, the clock time. */
export function timelineList(inc, callouts, audit, seen) {
  const events = timeline(inc, callouts, audit, seen);
  return h('ol', { class: 'timeline', id: 'timeline' }, events.map((ev) =>
    h('li', { class: `tl tl-${ev.kind} tl-${ev.state || ev.status || ev.action || ''}` },
      h('time', { datetime: ev.at, title: `${dateTime(ev.at)} ${clock(ev.at)}` }, ago(ev.at)), h('span', {}, eventText(ev)))));
}
