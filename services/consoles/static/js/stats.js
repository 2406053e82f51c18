// Stats view: acceptance rate and median time to accept, by team type and by district.
import { h, toast, duration } from './dom.js';
import { t } from './i18n.js';
import { api } from './api.js';
import { debounce } from './stream.js';
import { barChart } from './charts.js';
import { statRows } from './model.js';

function charts(stats, group, label) {
  const rows = statRows(stats, group);
  const rate = rows.map((r) => ({ label: label(r.key), value: r.rate, text: r.rate === null ? '—' : `${Math.round(r.rate * 100)}%`, note: t('callouts_n', { n: r.n }) }));
  const tta = rows.map((r) => ({ label: label(r.key), value: r.median_s, text: duration(r.median_s), note: t('callouts_n', { n: r.n }) }));
  return [
    h('div', { class: 'card' }, h('h2', {}, `${t('accept_rate')} · ${t(`by_${group === 'team_type' ? 'team' : 'district'}`)}`),
      barChart(rate, { max: 1, colour: '#1f9d55', id: `chart-rate-${group}` })),
    h('div', { class: 'card' }, h('h2', {}, `${t('median_tta')} · ${t(`by_${group === 'team_type' ? 'team' : 'district'}`)}`),
      barChart(tta, { colour: '#2f6fde', id: `chart-tta-${group}` })),
  ];
}

/** The same coverage figure as every other screen: slots filled of slots required. */
function coverageCards(cov) {
  if (!cov || !cov.incidents) return null;
  const card = (key, value, id) => h('div', { class: 'stat-card', id }, h('b', {}, value), h('span', {}, t(key)));
  return h('div', { class: 'stat-cards', id: 'stats-coverage' },
    card('stats_incidents', cov.incidents, 'stats-incidents'),
    card('stats_complete', `${cov.complete} / ${cov.incidents}`, 'stats-complete'),
    card('stats_filled', `${cov.filled} / ${cov.required}`, 'stats-filled'));
}

export async function renderStats(main, geo) {
  let stats = null;
  const draw = () => {
    main.replaceChildren(h('section', { class: 'page' }, h('div', { class: 'page-head' }, h('h1', {}, t('stats_title'))),
      coverageCards(stats && stats.coverage),
      h('div', { class: 'stats-grid' },
        ...charts(stats, 'team_type', (k) => t(`team_${k}`)),
        ...charts(stats, 'district', (k) => geo.name(k)))));
  };
  const load = async () => {
    try { stats = await api.stats(); } catch (err) { toast(err.message, 'error'); }
    draw();
  };
  await load();
  const refresh = debounce(load, 1000); // a round of call-outs should not mean a query per change
  return { onEvent: refresh, refresh, redraw: draw };
}
