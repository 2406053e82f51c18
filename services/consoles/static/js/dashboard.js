// Supervisor dashboard: one page, three views chosen by the path —
// /dashboard (incident list), /dashboard/incidents/{id} (incident with map), /dashboard/stats.
import { h, toast, dateTime, duration } from './dom.js';
import { t } from './i18n.js';
import { api } from './api.js';
import { startShell, setLive } from './shell.js';
import { LiveStream, debounce } from './stream.js';
import { incident as toIncident } from './model.js';
import { statusPill, progressBar } from './incident_view.js';
import { renderIncident } from './incident_page.js';
import { renderStats } from './stats.js';

const FILTERS = { live: (i) => i.live, done: (i) => !i.live, all: () => true };
let filter = 'live';

function incidentRow(inc, geo) {
  const href = `/dashboard/incidents/${encodeURIComponent(inc.id)}`;
  return h('tr', { class: `row-${inc.status}`, 'data-id': inc.id, onclick: () => { location.href = href; } },
    h('td', {}, statusPill(inc.status)),
    h('td', {}, h('a', { href, class: 'row-title' }, inc.title), h('div', { class: 'muted small' }, inc.area || inc.address)),
    h('td', {}, geo.name(inc.district)),
    h('td', { class: 'col-progress' }, inc.kind === 'advisory' ? t('kind_advisory') : progressBar(inc.coverage.filled, inc.coverage.required, inc.status)),
    h('td', { class: 'num' }, inc.round),
    h('td', { class: 'num' }, duration(inc.ttfa_s)),
    h('td', { class: 'num' }, dateTime(inc.created_at)));
}

function summary(all) {
  const n = (st) => all.filter((i) => i.status === st).length;
  const card = (key, value, cls) => h('div', { class: `stat-card ${cls}` }, h('b', {}, value), h('span', {}, t(key)));
  return h('div', { class: 'stat-cards' },
    card('st_mobilising', n('mobilising'), 'sc-mobilising'), card('st_staffed', n('staffed'), 'sc-staffed'),
    card('st_unmet', n('unmet'), 'sc-unmet'), card('filter_done', all.filter((i) => !i.live).length, 'sc-done'));
}

function filterTabs(redraw) {
  return h('div', { class: 'tabs', role: 'tablist' }, Object.keys(FILTERS).map((key) =>
    h('button', { type: 'button', role: 'tab', class: key === filter ? 'tab active' : 'tab', 'aria-selected': String(key === filter),
      onclick: () => { filter = key; redraw(); } }, t(`filter_${key}`))));
}

async function renderList(main, geo) {
  let all = [];
  const draw = () => {
    const shown = all.filter(FILTERS[filter]);
    const table = shown.length ? h('table', { class: 'table incidents', id: 'incidents' },
      h('thead', {}, h('tr', {}, ['col_status', 'col_title', 'col_district', 'col_progress', 'col_round', 'col_ttfa', 'col_raised']
        .map((k) => h('th', { class: ['col_round', 'col_ttfa', 'col_raised'].includes(k) ? 'num' : '' }, t(k))))),
      h('tbody', {}, shown.map((i) => incidentRow(i, geo)))) : h('p', { class: 'empty', id: 'incidents-empty' }, t('dash_none'));
    main.replaceChildren(h('section', { class: 'page' },
      h('div', { class: 'page-head' }, h('h1', {}, t('dash_title')), filterTabs(draw)), summary(all), h('div', { class: 'card' }, table)));
  };
  const load = async () => {
    try { all = (await api.listIncidents({ limit: 200 })).map(toIncident); } catch (err) { toast(err.message, 'error'); }
    draw();
  };
  await load();
  const refresh = debounce(load);
  return { onEvent: refresh, refresh, redraw: draw };
}

function route(main, geo) {
  const path = location.pathname.replace(/\/+$/, '');
  const m = path.match(/^\/dashboard\/incidents\/([^/]+)$/);
  if (m) return renderIncident(main, geo, decodeURIComponent(m[1]));
  if (path === '/dashboard/stats') return renderStats(main, geo);
  return renderList(main, geo);
}

const page = location.pathname.startsWith('/dashboard/stats') ? 'stats' : 'dashboard';
let view = null;
startShell({
  page,
  render: async (main, _sess, geo) => {
    view = await route(main, geo);
    new LiveStream({ onEvent: (evt) => view.onEvent(evt), onStatus: (st, reopened) => { setLive(st); if (reopened) view.refresh(); } }).start();
  },
  onLang: () => view && view.redraw(),
});
