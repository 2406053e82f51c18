// The campaign form: content (a case or a free notice), audience, schedule; its request body;
// and the pre-fill from the hotspot screen (campaigns.html?hotspot=row:col&cell_m=…&lat=…&lon=…&from=…).
// Inputs are named by the API's dotted field names, so a 422 lands beside the field it names.
import { h } from './dom.js';
import { t, lang } from './i18n.js';
import { TEAM_TYPES } from './model.js';

// Those who pass a notice on first, as the dispatcher orders the audience.
const TEAMS = ['information_officer', 'building_watch', ...TEAM_TYPES.filter((x) => !['information_officer', 'building_watch'].includes(x))];
const KINDS = ['now', 'at', 'weekly', 'monthly'];
const METRES_PER_DEGREE = 111320;

/** A hotspot cell's box from its centre and size (the hotspot grid is cell_m square). */
export function hotspotFrom(params) {
  const lat = Number(params.get('lat')), lon = Number(params.get('lon')), m = Number(params.get('cell_m'));
  if (!params.get('hotspot') || !m || Number.isNaN(lat) || Number.isNaN(lon)) return null;
  const dlat = m / METRES_PER_DEGREE / 2, dlon = m / (METRES_PER_DEGREE * Math.cos(lat * Math.PI / 180)) / 2;
  return { label: params.get('hotspot'), cell_m: m, lat, lon,
    box: { south: lat - dlat, west: lon - dlon, north: lat + dlat, east: lon + dlon } };
}

/** `2026-12-07T09:30` in the browser's zone, for a datetime-local input. */
function localInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function field(name, input, label = name, cls = 'field') {
  return h('label', { class: cls, 'data-field': name }, h('span', {}, t(label)), input,
    h('small', { class: 'field-error', 'data-for': name, role: 'alert' }));
}

function checks(name, values, label, checked = () => false) {
  return h('div', { class: 'chips', 'data-field': name }, values.map((v) => h('label', { class: 'chip-check' },
    h('input', { type: 'checkbox', name, value: v, checked: checked(v) }), ' ', label(v))));
}

function contentPart(cases, geo) {
  const source = (v) => h('label', { class: 'chip-check' }, h('input', { type: 'radio', name: 'source', value: v, checked: v === (cases.length ? 'case' : 'free') }), ' ', t(`camp_source_${v}`));
  const pick = h('select', { name: 'case_id' }, cases.length
    ? cases.map((c) => h('option', { value: c.id }, `${(lang() === 'en' && c.title_en) || c.title_zh} · ${geo.name(c.district)}`))
    : h('option', { value: '' }, t('camp_case_none')));
  return h('fieldset', { class: 'camp-part' }, h('legend', {}, t('camp_source')),
    h('div', { class: 'chips' }, source('case'), source('free')),
    h('div', { class: 'camp-case' }, field('case_id', pick, 'camp_case')),
    h('div', { class: 'camp-free grid-2' }, ['title_zh', 'title_en'].map((n) => field(n, h('input', { name: n }))),
      ['advice_zh', 'advice_en'].map((n) => field(n, h('textarea', { name: n, rows: 3 })))));
}

function audiencePart(districts, geo, hotspot) {
  const num = (name, step) => field(name, h('input', { name, type: 'number', step, inputmode: 'decimal' }));
  return h('fieldset', { class: 'camp-part' }, h('legend', {}, t('camp_audience')),
    h('div', { class: 'field' }, h('span', {}, t('camp_teams')), checks('team', TEAMS, (x) => t(`team_${x}`)),
      h('small', { class: 'muted' }, t('camp_teams_hint')), h('small', { class: 'field-error', 'data-for': 'audience.team_types' })),
    h('div', { class: 'field' }, h('span', {}, t('camp_districts')), checks('district', districts, (c) => geo.name(c)),
      h('small', { class: 'field-error', 'data-for': 'audience.districts', role: 'alert' })),
    h('div', { class: 'field' }, h('span', {}, t('camp_radius')),
      h('div', { class: 'grid-3' }, num('audience.radius.lat', 'any'), num('audience.radius.lon', 'any'), num('audience.radius.m', '50'))),
    hotspot ? h('p', { class: 'camp-hotspot', id: 'camp-hotspot' }, `${t('camp_hotspot')} ${hotspot.label} · ${hotspot.cell_m} m · ${hotspot.lat.toFixed(4)}, ${hotspot.lon.toFixed(4)} `,
      h('button', { type: 'button', class: 'btn-secondary btn-small', id: 'camp-hotspot-remove' }, t('camp_hotspot_remove')),
      h('small', { class: 'field-error', 'data-for': 'audience.hotspot_cells' })) : null,
    h('label', { class: 'chip-check' }, h('input', { type: 'checkbox', name: 'residents' }), ' ', t('camp_residents')));
}

function schedulePart(from) {
  const weekdays = t('camp_weekdays').split(',');
  const kind = h('select', { name: 'schedule.kind' }, KINDS.map((k) => h('option', { value: k, selected: k === (from ? 'at' : 'now') }, t(`camp_kind_${k}`))));
  const at = from ? new Date(from) : null;
  return h('fieldset', { class: 'camp-part' }, h('legend', {}, t('camp_schedule')),
    h('div', { class: 'grid-3' }, field('schedule.kind', kind, 'camp_schedule'),
      field('schedule.at', h('input', { name: 'schedule.at', type: 'datetime-local', value: at ? localInput(from) : '' }), 'schedule.at', 'field when-at'),
      field('schedule.weekday', h('select', { name: 'schedule.weekday' }, weekdays.map((w, i) => h('option', { value: i + 1, selected: at && ((at.getDay() + 6) % 7) === i }, w))), 'schedule.weekday', 'field when-weekly'),
      field('schedule.day', h('input', { name: 'schedule.day', type: 'number', min: 1, max: 28, value: 1 }), 'schedule.day', 'field when-monthly'),
      field('schedule.time', h('input', { name: 'schedule.time', type: 'time', value: at ? localInput(from).slice(11) : '09:00' }), 'schedule.time', 'field when-weekly when-monthly')),
    h('p', { class: 'muted small' }, t('camp_quiet_note')));
}

/** Show only the schedule fields the chosen kind uses, and the content fields of its source. */
export function syncForm(form) {
  const kind = form.elements['schedule.kind'].value;
  for (const el of form.querySelectorAll('[class*="when-"]')) el.hidden = !el.classList.contains(`when-${kind}`);
  const free = form.elements.source.value === 'free';
  form.querySelector('.camp-case').hidden = free;
  form.querySelector('.camp-free').hidden = !free;
}

export function campaignForm({ cases, districts, geo, hotspot, from }) {
  const error = h('p', { class: 'form-error', id: 'camp-error', role: 'alert' });
  const form = h('form', { class: 'camp-form', id: 'camp-form', novalidate: true },
    field('name', h('input', { name: 'name', value: hotspot ? `${t('camp_hotspot')} ${hotspot.label}` : '' }), 'camp_name'),
    contentPart(cases, geo), audiencePart(districts, geo, hotspot), schedulePart(from), error,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn-secondary', id: 'camp-dry' }, t('camp_dry')),
      h('button', { type: 'button', class: 'btn-primary', id: 'camp-send', disabled: true }, t('camp_send'))),
    h('p', { class: 'muted small', id: 'camp-send-note' }, t('camp_dry_first')));
  syncForm(form);
  return form;
}

/** What was typed and ticked, to put back into a form rebuilt in the other language. */
export function formValues(form) {
  return [...form.elements].filter((el) => el.name).map((el) => [el.name, el.value, el.checked]);
}

export function restoreValues(form, values) {
  for (const [name, value, checked] of values) {
    for (const el of form.querySelectorAll(`[name="${CSS.escape(name)}"]`)) {
      if (el.type === 'checkbox' || el.type === 'radio') { if (el.value === value) el.checked = checked; } else el.value = value;
    }
  }
  syncForm(form);
}

const text = (f, n) => f[n].value.trim();
const chosen = (form, name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((el) => el.value);

function radiusOf(f) {
  const parts = { lat: text(f, 'audience.radius.lat'), lon: text(f, 'audience.radius.lon'), m: text(f, 'audience.radius.m') };
  if (!Object.values(parts).some(Boolean)) return null;
  return Object.fromEntries(Object.entries(parts).filter(([, v]) => v).map(([k, v]) => [k, Number(v)]));
}

function scheduleOf(f) {
  const kind = f['schedule.kind'].value;
  const s = { kind, tz: 'Asia/Shanghai' };
  if (kind === 'at' && text(f, 'schedule.at')) s.at = new Date(text(f, 'schedule.at')).toISOString();
  if (kind === 'weekly') s.weekday = Number(f['schedule.weekday'].value);
  if (kind === 'monthly') s.day = Number(f['schedule.day'].value);
  if (kind === 'weekly' || kind === 'monthly') s.time = text(f, 'schedule.time') || null;
  return s;
}

/** The POST body for /v1/campaigns and its dry run. */
export function bodyOf(form, hotspot) {
  const f = form.elements;
  const body = { name: text(f, 'name'), audience: { team_types: chosen(form, 'team'), districts: chosen(form, 'district'),
    radius: radiusOf(f), hotspot_cells: hotspot ? [hotspot.box] : null, residents: f.residents.checked }, schedule: scheduleOf(f) };
  if (f.source.value === 'case') body.case_id = f.case_id.value || null;
  else for (const n of ['title_zh', 'advice_zh', 'title_en', 'advice_en']) if (text(f, n)) body[n] = text(f, n);
  return body;
}
