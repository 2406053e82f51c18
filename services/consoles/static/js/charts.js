// Horizontal SVG bar charts: one row per group, value label at the bar's end. Drawn in a fixed
// viewBox and scaled by CSS, so they stay crisp at any width and need no library.
import { s, h } from './dom.js';
import { t } from './i18n.js';

const ROW = 30, LABEL_W = 150, BAR_W = 300, VALUE_W = 110, PAD = 6;

/**
 * rows: [{label, value, text, note}] — value in [0, max]; text is the printed value.
 */
export function barChart(rows, { max, colour = '#2f6fde', id } = {}) {
  if (!rows.length) return h('p', { class: 'muted' }, t('stats_none'));
  const top = max || Math.max(...rows.map((r) => r.value || 0), 1);
  const height = rows.length * ROW + PAD;
  const svg = s('svg', { class: 'chart', id, viewBox: `0 0 ${LABEL_W + BAR_W + VALUE_W} ${height}`, role: 'img' });
  rows.forEach((r, i) => {
    const y = PAD + i * ROW;
    const w = r.value === null || r.value === undefined ? 0 : Math.max(2, (r.value / top) * BAR_W);
    svg.append(
      s('text', { x: LABEL_W - 10, y: y + ROW / 2, class: 'chart-label', 'text-anchor': 'end', 'dominant-baseline': 'middle' }, r.label),
      s('rect', { x: LABEL_W, y: y + 4, width: BAR_W, height: ROW - 12, rx: 3, class: 'chart-track' }),
      s('rect', { x: LABEL_W, y: y + 4, width: w, height: ROW - 12, rx: 3, fill: colour, class: 'chart-bar' },
        s('title', {}, `${r.label}: ${r.text}${r.note ? ` (${r.note})` : ''}`)),
      s('text', { x: LABEL_W + BAR_W + 8, y: y + ROW / 2, class: 'chart-value', 'dominant-baseline': 'middle' }, r.text));
  });
  return svg;
}
