// The incident view: the map with radius and responders, progress toward the need, figures,
// call-out counts, responders and a timeline. Refreshed from the stream without reloading.
import { h, toast } from './dom.js';
import { t } from './i18n.js';
import { api } from './api.js';
import { debounce } from './stream.js';
import { GeoMap } from './map.js';
import { incident as toIncident, callout as toCallout, countStates, NOTABLE } from './model.js';
import { nextStepsBox, mayActIn } from './nextsteps.js';
import { statusPill, progressBar, coverageNote, figures, stateCounts, needText, missingText, respondersTable, timelineList, details } from './incident_view.js';

/** Cancel / close buttons for a live incident, then the next steps the desk may take. */
export function incidentActions(inc, after, callouts = []) {
  if (!inc.live) return null;
  const act = (verb) => async () => {
    if (!window.confirm(t(`confirm_${verb}`))) return;
    try { await api[verb](inc.id); after(); } catch (err) { toast(err.message, 'error'); }
  };
  return h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'btn-danger', id: 'act-cancel', onclick: act('cancel') }, t('cancel')),
    h('button', { type: 'button', class: 'btn-secondary', id: 'act-close', onclick: act('close') }, t('close')),
    nextStepsBox(inc, callouts, { mayAct: mayActIn(inc.district), after }));
}

/** Progress, figures and counts: the part the desk shows too. */
export function summaryBlock(inc, callouts) {
  const counts = Object.keys(inc.counts).length ? inc.counts : countStates(callouts);
  const flag = inc.status === 'unmet' ? h('div', { class: 'flag-unmet', role: 'alert' }, t('unmet_flag')) : null;
  // An advisory expects no replies: its progress is deliveries out of those reached.
  const advisory = inc.kind === 'advisory';
  const done = advisory ? (inc.raw.deliveries || {}).delivered || 0 : inc.coverage.filled;
  const of = advisory ? inc.called || 0 : inc.needed;
  return h('div', { class: 'summary' }, flag,
    h('div', { class: 'progress-row' }, h('span', { class: 'figure-label' }, t(advisory ? 'advisory_delivered' : 'progress')),
      h('span', { class: 'need-text' }, advisory ? '' : needText(inc.need))),
    progressBar(done, of, inc.status),
    advisory ? null : coverageNote(inc.coverage),
    inc.live && !advisory ? h('p', { class: 'missing small' }, missingText(inc.missing)) : null,
    figures(inc), stateCounts(counts));
}

export function markersOf(callouts) {
  return callouts.map((c) => ({ lat: c.lat, lon: c.lon, state: c.state, title: `${c.name} · ${t(`cs_${c.state}`)}` }));
}

export function showOnMap(map, inc, callouts, first) {
  map.setIncident(inc.lat, inc.lon, inc.radius_m);
  map.setMarkers(markersOf(callouts));
  if (first && inc.lat !== null) map.focus(inc.lat, inc.lon, Math.max(12, ((inc.radius_m || 3000) / 1000) * 3.2));
}

function header(inc, geo, reload, callouts) {
  return h('div', { class: 'page-head' },
    h('div', {}, h('a', { href: '/dashboard', class: 'back' }, `← ${t('back_to_list')}`),
      h('h1', { id: 'incident-title' }, inc.title, ' ', statusPill(inc.status)),
      h('p', { class: 'muted' }, [geo.name(inc.district), inc.address, geo.category(inc.category)].filter(Boolean).join(' · '))),
    incidentActions(inc, reload, callouts));
}

export async function renderIncident(main, geo, id) {
  let inc = null, callouts = [], audit = [], map = null;
  const seen = []; // notable call-out changes the stream reported while this page was open
  const mapBox = h('div', { class: 'card map-card' });
  const draw = () => {
    if (!inc) return;
    if (!map) map = new GeoMap(mapBox, geo, { highlight: [inc.district] });
    else map.relabel();
    main.replaceChildren(h('section', { class: 'page page-incident', 'data-status': inc.status }, header(inc, geo, load, callouts),
      h('div', { class: 'incident-grid' }, mapBox,
        h('div', { class: 'card side' }, summaryBlock(inc, callouts), details(inc))),
      h('div', { class: 'incident-grid lower' },
        h('div', { class: 'card' }, h('h2', {}, t('responders')), respondersTable(callouts)),
        h('div', { class: 'card' }, h('h2', {}, t('timeline')), timelineList(inc, callouts, audit, seen)))));
    // Only now is the map laid out: Leaflet needs its size before it can frame the incident.
    map.map.invalidateSize();
    showOnMap(map, inc, callouts, !draw.done);
    draw.done = true;
  };
  const load = async () => {
    try {
      const [raw, list, trail] = await Promise.all([api.incident(id), api.callouts(id), api.audit(id)]);
      [inc, callouts, audit] = [toIncident(raw), list.map(toCallout), trail];
    } catch (err) {
      toast(err.message, 'error');
      if (!inc) main.replaceChildren(h('section', { class: 'page' }, h('a', { href: '/dashboard', class: 'back' }, `← ${t('back_to_list')}`),
        h('p', { class: 'empty', id: 'incident-error' }, err.message)));
    }
    draw();
  };
  await load();
  const refresh = debounce(load);
  const onEvent = (evt) => {
    const d = evt.data || {};
    if (d.incident_id !== id) return;
    if (evt.type === 'callout' && NOTABLE.has(d.state)) {
      seen.push({ at: new Date().toISOString(), who: d.name || String(d.callout_id).slice(0, 8), state: d.state });
    }
    refresh();
  };
  return { onEvent, refresh, redraw: draw };
}
