// An offline SVG map: approximate district cells, county seats, a scale bar, the incident with
// its call-out radius and responders coloured by call-out state. User units are kilometres, so
// zooming is just a viewBox change; sizes that must stay constant on screen are rescaled.
import { h, s } from './dom.js';
import { t } from './i18n.js';
import { districtName } from './geo.js';

export const STATE_COLOURS = {
  pending: '#9aa5b1', sent: '#5b8def', delivered: '#3f5bd9', accepted: '#1f9d55', arrived: '#0b6e3a',
  declined: '#d64545', no_answer: '#e8912d', stood_down: '#c3c9d0', failed: '#8d2b2b',
};
const NICE = [1, 2, 5];
// Seat labels that would collide at city zoom (赣县区 sits 8 km from 章贡区): [dx, dy, anchor].
const LABEL_AT = { 360704: [7, 4, 'start'], 360702: [0, 17, 'middle'] };

function niceLength(maxKm) {
  const pow = 10 ** Math.floor(Math.log10(maxKm));
  let best = pow;
  for (const n of NICE) if (n * pow <= maxKm) best = n * pow;
  return best;
}

export class GeoMap {
  constructor(container, geo, { onPick, pickable = false, highlight = null } = {}) {
    this.geo = geo;
    this.onPick = onPick;
    this.highlight = highlight ? new Set(highlight) : null;
    this.svg = s('svg', { class: 'map-svg', role: 'img', 'aria-label': 'map', preserveAspectRatio: 'xMidYMid meet' });
    this.layers = Object.fromEntries(['cells', 'seats', 'labels', 'radius', 'markers', 'pin'].map(
      (name) => [name, this.svg.appendChild(s('g', { class: `layer-${name}` }))]));
    this.scale = h('div', { class: 'map-scale' }, h('div', { class: 'map-scale-bar' }), h('span'));
    const tools = h('div', { class: 'map-tools' },
      this.button('+', 'map_zoom_in', () => this.zoom(0.5)),
      this.button('−', 'map_zoom_out', () => this.zoom(2)),
      this.button(t('map_city'), 'map_city', () => this.showCity(), 'wide'));
    this.root = h('div', { class: `map ${pickable ? 'map-pickable' : ''}` }, this.svg, tools, this.scale);
    container.append(this.root);
    this.drawBase();
    this.bindPointer();
    new ResizeObserver(() => this.rescale()).observe(this.svg);
    this.showCity();
  }

  button(label, key, fn, cls = '') {
    return h('button', { type: 'button', class: `map-btn ${cls}`, title: t(key), 'data-i18n-title': key, onclick: fn }, label);
  }

  drawBase() {
    const { project } = this.geo;
    for (const d of this.geo.divisions) {
      const pts = d.cell.map(([lon, lat]) => project(lon, lat).map((v) => v.toFixed(2)).join(',')).join(' ');
      const mine = !this.highlight || this.highlight.has(d.code);
      this.layers.cells.append(s('polygon', { points: pts, class: `cell ${mine ? 'cell-mine' : 'cell-other'}`, 'data-code': d.code }));
      const [x, y] = project(d.seat.lon, d.seat.lat);
      this.layers.seats.append(s('circle', { cx: x, cy: y, class: 'seat', 'data-code': d.code, 'data-r': 3 }));
      const [dx, dy, anchor] = LABEL_AT[d.code] || [0, -7, 'middle'];
      this.layers.labels.append(s('text', { x, y, class: 'seat-label', 'text-anchor': anchor, 'data-code': d.code, 'data-dx': dx, 'data-dy': dy }));
    }
    this.relabel();
  }

  /** Re-read district names (language switch). */
  relabel() {
    for (const el of this.layers.labels.querySelectorAll('.seat-label')) {
      el.textContent = districtName(this.geo.division(el.dataset.code), el.dataset.code);
    }
    for (const btn of this.root.querySelectorAll('.map-btn.wide')) btn.textContent = t('map_city');
    this.rescale();
  }

  setView(x, y, w, hgt) {
    this.view = { x, y, w, h: hgt };
    this.svg.setAttribute('viewBox', `${x} ${y} ${w} ${hgt}`);
    this.rescale();
  }

  showCity() {
    const pad = 4;
    this.setView(-pad, -pad, this.geo.width + 2 * pad, this.geo.height + 2 * pad);
  }

  /** Centre on (lat, lon) showing about `spanKm` across. */
  focus(lat, lon, spanKm) {
    const [x, y] = this.geo.project(lon, lat);
    this.setView(x - spanKm / 2, y - spanKm / 2, spanKm, spanKm);
  }

  zoom(factor, cx, cy) {
    const v = this.view;
    const px = cx ?? v.x + v.w / 2, py = cy ?? v.y + v.h / 2;
    const w = Math.min(Math.max(v.w * factor, 0.5), this.geo.width * 1.5);
    const k = w / v.w;
    this.setView(px - (px - v.x) * k, py - (py - v.y) * k, v.w * k, v.h * k);
  }

  /** km per screen pixel under the current view (0 until laid out). */
  kmPerPx() {
    const ctm = this.svg.getScreenCTM();
    return ctm && ctm.a ? 1 / ctm.a : 0;
  }

  /** Keep dots, labels and the scale bar the same size on screen whatever the zoom. */
  rescale() {
    const k = this.kmPerPx();
    if (!k) return;
    for (const el of this.svg.querySelectorAll('[data-r]')) el.setAttribute('r', el.dataset.r * k);
    for (const el of this.svg.querySelectorAll('text')) {
      el.setAttribute('font-size', 12 * k);
      el.setAttribute('stroke-width', 3 * k); // the white halo; user units are km
      el.setAttribute('dx', (el.dataset.dx || 0) * k);
      el.setAttribute('dy', (el.dataset.dy || 0) * k);
    }
    const km = niceLength(k * 120);
    this.scale.firstChild.style.width = `${km / k}px`;
    this.scale.lastChild.textContent = km >= 1 ? `${km} km` : `${km * 1000} m`;
  }

  toMap(evt) {
    const pt = new DOMPoint(evt.clientX, evt.clientY).matrixTransform(this.svg.getScreenCTM().inverse());
    return [pt.x, pt.y];
  }

  bindPointer() {
    let drag = null;
    this.svg.addEventListener('pointerdown', (e) => {
      drag = { x: e.clientX, y: e.clientY, view: { ...this.view }, moved: false };
      this.svg.setPointerCapture(e.pointerId);
    });
    this.svg.addEventListener('pointermove', (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 4) drag.moved = true;
      if (!drag.moved) return;
      const k = this.kmPerPx();
      this.setView(drag.view.x - dx * k, drag.view.y - dy * k, drag.view.w, drag.view.h);
    });
    this.svg.addEventListener('pointerup', (e) => {
      const wasClick = drag && !drag.moved;
      drag = null;
      if (wasClick && this.onPick) this.pick(e);
    });
    this.svg.addEventListener('wheel', (e) => {
      e.preventDefault();
      const [x, y] = this.toMap(e);
      this.zoom(e.deltaY > 0 ? 1.25 : 0.8, x, y);
    }, { passive: false });
  }

  pick(evt) {
    const [x, y] = this.toMap(evt);
    const [lon, lat] = this.geo.unproject(x, y);
    if (this.geo.contains(lat, lon)) this.onPick(+lat.toFixed(5), +lon.toFixed(5));
  }

  /** A pin for a chosen location (desk), without a radius. */
  setPin(lat, lon) {
    this.layers.pin.replaceChildren();
    if (lat === null || lat === undefined) return;
    const [x, y] = this.geo.project(lon, lat);
    this.layers.pin.append(s('circle', { cx: x, cy: y, class: 'pin', 'data-r': 7 }),
      s('circle', { cx: x, cy: y, class: 'pin-dot', 'data-r': 2.5 }));
    this.rescale();
  }

  /** The incident location and its current call-out radius. */
  setIncident(lat, lon, radiusM) {
    this.layers.radius.replaceChildren();
    if (lat === null || lat === undefined) return;
    const [x, y] = this.geo.project(lon, lat);
    if (radiusM) this.layers.radius.append(s('circle', { cx: x, cy: y, r: radiusM / 1000, class: 'radius' }));
    this.setPin(lat, lon);
  }

  /** Responders: [{lat, lon, state, title}] — those without a position are skipped. */
  setMarkers(markers) {
    this.layers.markers.replaceChildren();
    for (const m of markers) {
      if (m.lat === null || m.lat === undefined || m.lon === null || m.lon === undefined) continue;
      const [x, y] = this.geo.project(m.lon, m.lat);
      const dot = s('circle', { cx: x, cy: y, class: `marker marker-${m.state}`, fill: STATE_COLOURS[m.state] || '#888', 'data-r': 5 },
        s('title', {}, m.title || ''));
      this.layers.markers.append(dot);
    }
    this.rescale();
  }
}
