// Ganzhou's 18 county-level divisions (shipped JSON) and a local flat projection in km, plus
// what every screen names: the categories (one list for server and consoles, GET /v1/reference)
// and the map settings (/console-config.json). At city scale (≈ 300 km) an equirectangular plane
// at the mid latitude is accurate to well under 1 %, which is all a district lookup needs.
import { lang } from './i18n.js';

const KM_PER_DEG_LAT = 110.574;
let cached = null;

const json = (url, fallback) => fetch(url, { headers: { Accept: 'application/json' } })
  .then((r) => (r.ok ? r.json() : fallback)).catch(() => fallback);

export async function loadGeo() {
  if (!cached) {
    cached = Promise.all([
      fetch('/console-static/geo/ganzhou.json').then((r) => {
        if (!r.ok) throw new Error(`geo ${r.status}`);
        return r.json();
      }),
      json('/v1/reference', { categories: [] }),
      json('/console-config.json', { tiles: null }),
    ]).then(([data, ref, cfg]) => ({ ...makeGeo(data), ...categoriesOf(ref), mapConfig: cfg }));
  }
  return cached;
}

function categoriesOf(ref) {
  const cats = (ref && ref.categories) || [];
  const byCode = new Map(cats.map((c) => [c.code, c]));
  return {
    categories: cats.map((c) => c.code),
    /** The category's word in the page's language; an unknown code as it is (never cat_x). */
    category: (code) => {
      const c = byCode.get(code);
      return c ? (lang() === 'en' ? c.en : c.zh) : String(code || '—');
    },
  };
}

function makeGeo(data) {
  const bb = data.city.bbox;
  const kx = 111.32 * Math.cos((data.city.lat0 * Math.PI) / 180);
  const project = (lon, lat) => [(lon - bb.min_lon) * kx, (bb.max_lat - lat) * KM_PER_DEG_LAT];
  const unproject = (x, y) => [bb.min_lon + x / kx, bb.max_lat - y / KM_PER_DEG_LAT];
  const byCode = new Map(data.divisions.map((d) => [d.code, d]));
  const [width, height] = project(bb.max_lon, bb.min_lat);
  return {
    divisions: data.divisions, bbox: bb, width, height, project, unproject,
    division: (code) => byCode.get(code),
    name: (code) => districtName(byCode.get(code), code),
    /** The division whose cell holds the point, i.e. the one with the nearest seat. */
    nearest(lat, lon) {
      const [x, y] = project(lon, lat);
      let best = null, bestD = Infinity;
      for (const d of data.divisions) {
        const [sx, sy] = project(d.seat.lon, d.seat.lat);
        const dist = (sx - x) ** 2 + (sy - y) ** 2;
        if (dist < bestD) [best, bestD] = [d, dist];
      }
      return best;
    },
    contains: (lat, lon) => lat >= bb.min_lat && lat <= bb.max_lat && lon >= bb.min_lon && lon <= bb.max_lon,
  };
}

export function districtName(division, code) {
  if (!division) return code || '—';
  return lang() === 'en' ? division.name_en : division.name;
}
