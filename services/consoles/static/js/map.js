// The consoles' map, on Leaflet (installed from npm by deploy/local/webdeps.sh, served from our
// own origin). The default layer is the offline outline: approximate district cells and county
// seats from geo/ganzhou.json. When the deployment names a tile source (BAIYING_MAP_TILES, given
// at /console-config.json) its tiles are drawn underneath; nothing else is ever fetched.
// Leaflet turns a click into a latitude/longitude itself, so a pick lands where clicked at any zoom.
import * as L from '../vendor/leaflet/leaflet-src.esm.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { districtName } from './geo.js';

export const STATE_COLOURS = {
  pending: '#9aa5b1', sent: '#5b8def', delivered: '#3f5bd9', accepted: '#1f9d55', arrived: '#0b6e3a',
  declined: '#d64545', no_answer: '#e8912d', stood_down: '#c3c9d0', failed: '#8d2b2b',
};

const latLng = (lat, lon) => L.latLng(lat, lon);
const has = (v) => v !== null && v !== undefined;

function tag(layer, attrs) {
  const el = layer.getElement && layer.getElement();
  if (el) for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
}

export class GeoMap {
  /** `geo` comes from loadGeo(), which carries the map settings ({tiles: {...} | null}). */
  constructor(container, geo, { onPick, pickable = false, highlight = null } = {}) {
    const cfg = geo.mapConfig || { tiles: null };
    this.geo = geo;
    this.onPick = onPick;
    this.highlight = highlight ? new Set(highlight) : null;
    this.el = h('div', { class: `map ${pickable ? 'map-pickable' : ''} ${cfg.tiles ? 'map-tiled' : 'map-offline'}` });
    container.append(this.el);
    this.el.geomap = this; // tests find the map through its element
    const bb = geo.bbox;
    this.cityBounds = L.latLngBounds([bb.min_lat, bb.min_lon], [bb.max_lat, bb.max_lon]);
    this.map = L.map(this.el, {
      zoomControl: false, attributionControl: false, minZoom: 7,
      maxZoom: cfg.tiles ? cfg.tiles.max_zoom || 18 : 18, maxBounds: this.cityBounds.pad(0.3),
    });
    this.showCity(); // a view first: Leaflet creates a layer's SVG element only once it has one
    if (cfg.tiles) {
      this.tiles = L.tileLayer(cfg.tiles.url, {
        subdomains: cfg.tiles.subdomains || 'abc', attribution: cfg.tiles.attribution || '',
        maxZoom: cfg.tiles.max_zoom || 18, className: 'map-tiles',
      }).addTo(this.map);
      L.control.attribution({ prefix: false }).addTo(this.map);
    }
    this.layers = Object.fromEntries(['cells', 'seats', 'radius', 'markers', 'pin'].map(
      (name) => [name, L.layerGroup().addTo(this.map)]));
    this.controls();
    this.drawBase(Boolean(cfg.tiles));
    if (onPick) this.map.on('click', (e) => this.pick(e.latlng));
    new ResizeObserver(() => this.map.invalidateSize()).observe(this.el);
  }

  controls() {
    this.zoomCtl = L.control.zoom({ position: 'topright', zoomInTitle: t('map_zoom_in'), zoomOutTitle: t('map_zoom_out') }).addTo(this.map);
    const City = L.Control.extend({
      onAdd: () => {
        this.cityBtn = h('button', { type: 'button', class: 'map-btn wide', id: 'map-city', title: t('map_city') }, t('map_city'));
        L.DomEvent.disableClickPropagation(this.cityBtn);
        this.cityBtn.addEventListener('click', () => this.showCity());
        return this.cityBtn;
      },
    });
    new City({ position: 'topright' }).addTo(this.map);
    L.control.scale({ position: 'bottomleft', imperial: false, maxWidth: 140 }).addTo(this.map);
  }

  drawBase(tiled) {
    for (const d of this.geo.divisions) {
      const mine = !this.highlight || this.highlight.has(d.code);
      const cell = L.polygon(d.cell.map(([lon, lat]) => [lat, lon]), {
        className: `cell ${mine ? 'cell-mine' : 'cell-other'}`, interactive: false,
        // Over real tiles the cells are only outlines, so streets stay readable.
        fillOpacity: tiled ? (mine ? 0.06 : 0.02) : 1, weight: tiled ? 1.5 : 1.5,
      }).addTo(this.layers.cells);
      tag(cell, { 'data-code': d.code });
      const seat = L.circleMarker(latLng(d.seat.lat, d.seat.lon), { radius: 3, className: 'seat', interactive: false })
        .bindTooltip('', { permanent: true, direction: 'top', className: 'seat-label', offset: [0, -4] })
        .addTo(this.layers.seats);
      seat.code = d.code;
      tag(seat, { 'data-code': d.code });
    }
    this.relabel();
  }

  /** Re-read district names and control titles (language switch). */
  relabel() {
    this.layers.seats.eachLayer((seat) => seat.setTooltipContent(districtName(this.geo.division(seat.code), seat.code)));
    if (this.cityBtn) { this.cityBtn.textContent = t('map_city'); this.cityBtn.title = t('map_city'); }
    const zin = this.el.querySelector('.leaflet-control-zoom-in'), zout = this.el.querySelector('.leaflet-control-zoom-out');
    if (zin) zin.title = t('map_zoom_in');
    if (zout) zout.title = t('map_zoom_out');
  }

  showCity() { this.map.fitBounds(this.cityBounds, { padding: [8, 8], animate: false }); }

  /** Frame the cells of `codes` (a desk opens on its own districts, not the whole city). */
  showDistricts(codes) {
    const cells = this.geo.divisions.filter((d) => codes.includes(d.code)).flatMap((d) => d.cell.map(([lon, lat]) => [lat, lon]));
    if (cells.length) this.map.fitBounds(L.latLngBounds(cells), { padding: [8, 8], animate: false });
  }

  /** Centre on (lat, lon) showing about `spanKm` across. */
  focus(lat, lon, spanKm) {
    const c = latLng(lat, lon);
    this.map.fitBounds(c.toBounds(spanKm * 1000), { animate: false });
  }

  zoomTo(lat, lon, zoom) { this.map.setView(latLng(lat, lon), zoom, { animate: false }); }

  pick(ll) {
    if (!this.geo.contains(ll.lat, ll.lng)) return;
    this.onPick(+ll.lat.toFixed(5), +ll.lng.toFixed(5));
  }

  /** A pin for a chosen location (desk), without a radius. */
  setPin(lat, lon) {
    this.layers.pin.clearLayers();
    if (!has(lat) || !has(lon)) return;
    L.circleMarker(latLng(lat, lon), { radius: 8, className: 'pin', interactive: false }).addTo(this.layers.pin);
    L.circleMarker(latLng(lat, lon), { radius: 3, className: 'pin-dot', interactive: false }).addTo(this.layers.pin);
  }

  /** The incident location and its current call-out radius. */
  setIncident(lat, lon, radiusM) {
    this.layers.radius.clearLayers();
    if (!has(lat) || !has(lon)) { this.setPin(null); return; }
    if (radiusM) L.circle(latLng(lat, lon), { radius: radiusM, className: 'radius', interactive: false }).addTo(this.layers.radius);
    this.setPin(lat, lon);
  }

  /** Responders: [{lat, lon, state, title}] — those without a position are skipped. */
  setMarkers(markers) {
    this.layers.markers.clearLayers();
    for (const m of markers) {
      if (!has(m.lat) || !has(m.lon)) continue;
      const colour = STATE_COLOURS[m.state] || '#888';
      const dot = L.circleMarker(latLng(m.lat, m.lon), {
        radius: 6, className: `marker marker-${m.state}`, fillColor: colour, fillOpacity: 1, color: '#fff', weight: 1.5,
      }).bindTooltip(m.title || '').addTo(this.layers.markers);
      tag(dot, { 'data-state': m.state });
    }
  }

  /** Screen position (px, relative to the page) of a place: tests and the pin use it. */
  pointOf(lat, lon) {
    const p = this.map.latLngToContainerPoint(latLng(lat, lon));
    const r = this.el.getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }
}
