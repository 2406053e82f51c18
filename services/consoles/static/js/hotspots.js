// 以案说防 hotspots (issue 14): call-outs of a chosen window by grid cell (on the Leaflet map)
// and by hour of the week; the top cells in a table, each with a "campaign for this hotspot"
// link that pre-fills the campaign screen (campaigns.html?hotspot=…&from=…). Over /v1/hotspots.
import * as L from '../vendor/leaflet/leaflet-src.esm.js';
import { h, toast, dateTime } from './dom.js';
import { t, lang } from './i18n.js';
import { request } from './api.js';
import { districtsOf } from './auth.js';
import { startShell } from './shell.js';
import { GeoMap } from './map.js';
import './cases_i18n.js';

const WINDOWS = [7, 30, 90, 365];
const CELLS = [250, 500, 1000, 2000];

/** The campaign screen, pre-filled with this cell (row:col at cell_m metres) and send time. */
function campaignHref(cell, cellM) {
  const q = new URLSearchParams({ hotspot: `${cell.row}:${cell.col}`, cell_m: String(cellM),
    from: cell.suggested_send, lat: cell.lat.toFixed(5), lon: cell.lon.toFixed(5) });
  return `campaigns.html?${q}`;
}

const heat = (n, max) => (n && max ? `rgba(214, 69, 69, ${(0.15 + 0.75 * n / max).toFixed(2)})` : '#f3f5f8');

function topCategories(cats, geo) {
  return Object.entries(cats).sort((a, b) => b[1] - a[1]).slice(0, 3)
    .map(([c, n]) => `${geo.category(c)} ${n}`).join('、');
}

function cellsTable(data, geo) {
  if (!data.cells.length) return h('p', { class: 'empty', id: 'hot-empty' }, t('hot_none'));
  const cols = ['hot_rank', 'hot_where', 'hot_count', 'hot_cats', 'hot_peak', 'hot_send', ''];
  return h('table', { class: 'table', id: 'hot-cells' }, h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, c ? t(c) : '')))),
    h('tbody', {}, data.cells.map((c, i) => h('tr', { 'data-cell': `${c.row}:${c.col}` },
      h('td', { class: 'num' }, i + 1), h('td', { class: 'small' }, `${c.lat.toFixed(4)}, ${c.lon.toFixed(4)}`),
      h('td', { class: 'num' }, c.count), h('td', {}, topCategories(c.categories, geo)), h('td', {}, c.peak_label),
      h('td', {}, dateTime(c.suggested_send)),
      h('td', {}, h('a', { class: 'btn-secondary btn-small campaign-link', href: campaignHref(c, data.cell_m) }, t('hot_campaign')))))));
}

function weekTable(data) {
  const max = Math.max(0, ...data.week);
  const peaks = new Map(); // hour → the best-ranked cell peaking then
  data.cells.forEach((c, i) => { if (!peaks.has(c.peak_hour)) peaks.set(c.peak_hour, i + 1); });
  const hours = [...Array(24).keys()];
  return h('table', { class: 'week', id: 'hot-week' },
    h('thead', {}, h('tr', {}, h('th'), hours.map((hr) => h('th', {}, hr % 3 === 0 ? hr : '')))),
    h('tbody', {}, [...Array(7).keys()].map((d) => h('tr', {}, h('th', {}, t(`wd_${d}`)), hours.map((hr) => {
      const n = data.week[d * 24 + hr], rank = peaks.get(d * 24 + hr);
      return h('td', { 'data-hour': d * 24 + hr, title: `${t(`wd_${d}`)} ${hr}:00 · ${n}${rank ? ` · #${rank}` : ''}`,
        // The cell says how many incidents fell in that hour; the outline marks a top cell's peak.
        style: `background:${heat(n, max)};${rank ? 'outline:2px solid #1d2733;' : ''}` }, n ? String(n) : '');
    })))));
}

function drawCells(geomap, data) {
  if (!geomap.hot) geomap.hot = L.layerGroup().addTo(geomap.map);
  geomap.hot.clearLayers();
  const max = Math.max(0, ...data.cells.map((c) => c.count));
  for (const [i, c] of data.cells.entries()) {
    L.rectangle([[c.south, c.west], [c.north, c.east]], {
      className: 'hot-cell', color: '#8d2b2b', weight: 1, fillColor: heat(c.count, max), fillOpacity: 1,
    }).bindTooltip(`#${i + 1} · ${c.count} · ${c.peak_label}`).addTo(geomap.hot);
    // A 500 m cell is a speck when the cells are far apart: a marker keeps each one findable.
    L.circleMarker([(c.south + c.north) / 2, (c.west + c.east) / 2], {
      className: 'hot-dot', radius: 5 + Math.round(7 * c.count / Math.max(max, 1)), color: '#8d2b2b',
      weight: 2, fillColor: heat(c.count, max), fillOpacity: 0.9,
    }).bindTooltip(`#${i + 1} · ${c.count} · ${c.peak_label}`).addTo(geomap.hot);
  }
  if (data.cells.length) geomap.map.fitBounds(L.latLngBounds(data.cells.flatMap((c) => [[c.south, c.west], [c.north, c.east]])).pad(0.5), { animate: false });
}

async function renderHotspots(main, sess, geo) {
  const state = { days: 90, cell_m: 500, category: '', data: null };
  const mapBox = h('div', { class: 'hot-map' });
  let geomap = null; // made once its box is in the page: Leaflet measures the box it draws in
  const load = async () => {
    const q = new URLSearchParams({ days: state.days, cell_m: state.cell_m, top: 10, lang: lang() });
    if (state.category) q.set('category', state.category);
    try { state.data = await request('GET', `/v1/hotspots?${q}`); } catch (err) { toast(err.message, 'error'); }
    draw();
  };
  const tabs = () => h('div', { class: 'tabs', role: 'tablist', id: 'hot-window' }, WINDOWS.map((d) => h('button', {
    type: 'button', role: 'tab', 'data-days': d, class: d === state.days ? 'tab active' : 'tab', 'aria-selected': String(d === state.days),
    onclick: () => { state.days = d; load(); } }, t('hot_days', { n: d }))));
  const cellSize = () => h('label', { class: 'toolbar' }, t('hot_cell'), h('select', { id: 'hot-cell-m',
    onchange: (e) => { state.cell_m = Number(e.target.value); load(); } },
  CELLS.map((m) => h('option', { value: m, selected: m === state.cell_m }, `${m} m`))));
  const category = () => h('label', { class: 'toolbar' }, t('category'), h('select', { id: 'hot-category',
    onchange: (e) => { state.category = e.target.value; load(); } }, h('option', { value: '' }, t('cases_category_all')),
  geo.categories.map((c) => h('option', { value: c, selected: c === state.category }, geo.category(c)))));
  function draw() {
    const data = state.data || { cells: [], week: Array(168).fill(0), total: 0, cell_m: state.cell_m };
    main.replaceChildren(h('section', { class: 'page' },
      h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, t('hot_title')), h('p', { class: 'muted' }, t('hot_help'))),
        h('div', { class: 'toolbar' }, tabs(), cellSize(), category())),
      h('p', { class: 'muted', id: 'hot-total' }, t('hot_total', { n: data.total })),
      h('div', { class: 'split' }, h('div', { class: 'card' }, mapBox), h('div', { class: 'card table-scroll' }, cellsTable(data, geo))),
      h('div', { class: 'card table-scroll' }, h('h2', {}, t('hot_week')), weekTable(data))));
    if (!geomap) geomap = new GeoMap(mapBox, geo, { highlight: districtsOf(sess.claims) });
    geomap.map.invalidateSize();
    drawCells(geomap, data);
  }
  await load();
  return load; // a language switch re-reads: the API words the peak hours in that language
}

let reload = null;
startShell({ page: 'hotspots', render: async (main, sess, geo) => { reload = await renderHotspots(main, sess, geo); },
  onLang: () => reload && reload() });
