// Duty desk: find the address (standard-address search, the map, or coordinates), describe the
// need, raise; then watch the incident mobilise on the same screen, and cancel or close it.
// The list on the side is the desk's live incidents as the server has them, however many.
import { h, $, toast, ago } from './dom.js';
import { t } from './i18n.js';
import { api } from './api.js';
import { districtsOf } from './auth.js';
import { startShell, setLive } from './shell.js';
import { LiveStream, debounce } from './stream.js';
import { GeoMap } from './map.js';
import { incident as toIncident, callout as toCallout } from './model.js';
import { statusPill } from './incident_view.js';
import { incidentActions, summaryBlock, showOnMap } from './incident_page.js';
import { raiseForm, syncNeedMode, raiseBody, FieldError, clearFieldErrors, showFieldErrors } from './desk_form.js';
import { Suggest } from './gazetteer.js';

const LIVE_STATUSES = ['mobilising', 'unmet', 'staffed', 'issued'];

/** A random UUID that works outside secure contexts too (crypto.randomUUID needs https). */
function uuid() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

class Desk {
  constructor(main, sess, geo) {
    const allowed = districtsOf(sess.claims);
    this.geo = geo;
    this.mine = (code) => allowed === null || allowed.includes(code);
    this.canRaise = ['duty_desk', 'admin'].includes(sess.claims.role);
    this.current = null; // id of the incident followed on the right
    this.idemKey = uuid(); // one key per raise attempt: a retried submit cannot raise twice
    this.mapBox = h('div', { class: 'card map-card desk-map' });
    this.side = h('div', { class: 'desk-side' });
    main.replaceChildren(h('section', { class: 'page page-desk' }, h('div', { class: 'desk-grid' }, this.mapBox, this.side)));
    this.map = new GeoMap(this.mapBox, geo, { pickable: this.canRaise, highlight: allowed,
      onPick: this.canRaise ? (lat, lon) => this.pick(lat, lon) : null });
    if (allowed) requestAnimationFrame(() => { this.map.map.invalidateSize(); this.map.showDistricts(allowed); });
    this.refresh = debounce(() => this.load());
  }

  pick(lat, lon) {
    const f = this.form.elements;
    [f.lat.value, f.lon.value] = [lat, lon];
    const d = this.geo.nearest(lat, lon);
    if (d) f.district.value = d.code;
    this.map.setIncident(null);
    this.map.setMarkers([]);
    this.map.setPin(lat, lon);
  }

  draw() {
    if (!this.canRaise) { this.drawViewer(); return; }
    const keep = this.form ? new FormData(this.form) : null;
    this.form = raiseForm(this.geo, { mine: this.mine });
    if (keep) for (const [k, v] of keep) if (this.form.elements[k] && this.form.elements[k].type !== 'radio') this.form.elements[k].value = v;
    if (keep) for (const name of ['kind', 'need_mode']) this.form.elements[name].value = keep.get(name);
    this.form.addEventListener('change', () => syncNeedMode(this.form));
    this.form.addEventListener('input', (e) => { if (['lat', 'lon'].includes(e.target.name)) this.typed(); });
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.raise(); });
    syncNeedMode(this.form);
    new Suggest(this.form, { onPick: (a) => this.picked(a) });
    // The form comes first so the raise button is in sight; the followed incident and the
    // desk's live list follow it (and the followed one is scrolled to after raising).
    this.side.replaceChildren(h('div', { class: 'card' }, h('h1', {}, t('desk_title')), this.form),
      h('div', { class: 'card followed', id: 'followed' }), h('div', { class: 'card', id: 'recent' }));
    this.map.relabel();
    this.load();
  }

  /** A supervisor (or anyone who may not raise) sees the live list and the map, not the form. */
  drawViewer() {
    this.side.replaceChildren(h('p', { class: 'role-note', id: 'role-note' }, t('desk_role_view')),
      h('div', { class: 'card followed', id: 'followed' }), h('div', { class: 'card', id: 'recent' }));
    this.map.relabel();
    this.load();
  }

  /** A standard address picked from the search: it fills location, district and area. */
  picked(a) {
    const f = this.form.elements;
    [f.lat.value, f.lon.value, f.address.value, f.area.value] = [a.lat, a.lon, a.address, a.area || ''];
    if ([...f.district.options].some((o) => o.value === a.district)) f.district.value = a.district;
    this.map.setIncident(null);
    this.map.setMarkers([]);
    this.map.setPin(a.lat, a.lon);
    // Street zoom only helps over real tiles; the offline outline has no streets to show.
    this.map.zoomTo(a.lat, a.lon, this.geo.mapConfig && this.geo.mapConfig.tiles ? 17 : 12);
  }

  /** Coordinates typed by hand: move the pin and pre-fill the district like a click. */
  typed() {
    const lat = Number(this.form.elements.lat.value), lon = Number(this.form.elements.lon.value);
    if (this.form.elements.lat.value && this.form.elements.lon.value && this.geo.contains(lat, lon)) {
      const d = this.geo.nearest(lat, lon);
      if (d) this.form.elements.district.value = d.code;
      this.map.setPin(lat, lon);
    }
  }

  /** Errors beside their fields; one line above the button says what to do (never twice). */
  showErrors(errors, fallback) {
    const stray = showFieldErrors(this.form, errors);
    $('#raise-error').textContent = stray.length ? stray.join('；') : (errors.length ? t('err_fix_fields') : fallback);
  }

  async raise() {
    const btn = $('#raise-submit');
    $('#raise-error').textContent = '';
    clearFieldErrors(this.form);
    let body;
    try { body = raiseBody(this.form); } catch (e) {
      if (e instanceof FieldError) { this.showErrors([e]); return; }
      throw e;
    }
    btn.disabled = true;
    btn.textContent = t('submitting');
    try {
      const inc = toIncident(await api.raise(body, this.idemKey));
      this.idemKey = uuid();
      this.current = inc.id;
      toast(`${t('raised_ok')}：${inc.title}`, 'ok');
      this.form.elements.title.value = '';
      this.form.elements.description.value = '';
      await this.load();
      $('#followed').scrollIntoView({ block: 'nearest' });
    } catch (e) {
      const fields = e.status === 422 && Array.isArray(e.detail) ? e.detail : [];
      this.showErrors(fields, e.message);
    } finally {
      btn.disabled = false;
      btn.textContent = t('submit_raise');
    }
  }

  async load() {
    try {
      // Every live incident of the desk's districts, not the last few raised anywhere.
      const lists = await Promise.all(LIVE_STATUSES.map((status) => api.listIncidents({ status, limit: 500 })));
      const byId = new Map(lists.flat().map((raw) => [raw.id, raw])); // a status change mid-fetch can list one twice
      const list = [...byId.values()].map(toIncident).sort((a, b) => new Date(b.created_at) - new Date(a.created_at));
      this.drawRecent(list);
      if (this.current) await this.follow(this.current);
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  async follow(id) {
    const [raw, list] = await Promise.all([api.incident(id), api.callouts(id)]);
    const inc = toIncident(raw), callouts = list.map(toCallout);
    const first = this.shown !== id;
    this.shown = id;
    showOnMap(this.map, inc, callouts, first);
    $('#followed').replaceChildren(h('div', { class: 'followed-head' },
      h('h2', { id: 'followed-title' }, inc.title, ' ', statusPill(inc.status)),
      h('a', { href: `/dashboard/incidents/${encodeURIComponent(id)}`, class: 'link' }, t('open_dashboard'))),
    h('p', { class: 'muted' }, [this.geo.name(inc.district), inc.address].filter(Boolean).join(' · ')),
    summaryBlock(inc, callouts), incidentActions(inc, () => this.load(), callouts));
  }

  drawRecent(list) {
    const rows = list.map((inc) => h('li', { class: inc.id === this.current ? 'sel' : '', 'data-id': inc.id,
      onclick: () => { this.current = inc.id; this.load(); } },
    statusPill(inc.status), h('span', { class: 'recent-title' }, inc.title),
    h('span', { class: 'muted small' }, `${inc.kind === 'advisory' ? t('kind_advisory') : `${inc.coverage.filled}/${inc.coverage.required}`} · ${ago(inc.created_at)}`)));
    $('#recent').replaceChildren(h('h2', {}, `${t('desk_live')} (${list.length})`),
      rows.length ? h('ul', { class: 'recent', id: 'desk-live' }, rows) : h('p', { class: 'muted' }, t('desk_none')));
  }
}

let desk = null;
startShell({
  page: 'desk',
  render: (main, sess, geo) => {
    desk = new Desk(main, sess, geo);
    desk.draw();
    new LiveStream({ onEvent: () => desk.refresh(), onStatus: (st, reopened) => { setLive(st); if (reopened) desk.refresh(); } }).start();
  },
  onLang: () => desk && desk.draw(),
});
