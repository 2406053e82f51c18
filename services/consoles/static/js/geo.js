// Ganzhou's 18 county-level divisions (shipped JSON) and a local flat projection in km.
// At city scale (≈ 300 km) an equirectangular plane at the mid latitude is accurate to well
// under 1 %, which is all a scale bar and a radius circle need.
import { lang } from './i18n.js';

const KM_PER_DEG_LAT = 110.574;
let cached = null;

export async function loadGeo() {
  if (!cached) {
    cached = fetch('/console-static/geo/ganzhou.json').then((r) => {
      if (!r.ok) throw new Error(`geo ${r.status}`);
      return r.json();
    }).then(makeGeo);
  }
  return cached;
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
