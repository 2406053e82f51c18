// The raise form of the duty desk: builds the POST /v1/incidents body from the inputs, and shows
// what is wrong beside the field it concerns (the API's 422 names the field), in the UI's language.
import { h } from './dom.js';
import { t } from './i18n.js';
import { TEAM_TYPES, SKILLS } from './model.js';

const num = (form, name) => Number(form.elements[name].value || 0);

function field(labelKey, input, cls = '') {
  return h('label', { class: `field ${cls}` }, h('span', {}, t(labelKey)), input,
    h('small', { class: 'field-error', 'data-for': input.name || '', role: 'alert' }));
}

function countInput(name, value = 0) {
  return h('input', { type: 'number', name, min: 0, max: 500, step: 1, value, inputmode: 'numeric' });
}

function segmented(name, options, value) {
  return h('div', { class: 'segmented', role: 'radiogroup' }, options.map(([v, key]) =>
    h('label', {}, h('input', { type: 'radio', name, value: v, checked: v === value }), h('span', {}, t(key)))));
}

function needFields() {
  return h('fieldset', { class: 'need' }, h('legend', {}, t('need')),
    segmented('need_mode', [['total', 'need_total'], ['mix', 'need_mix']], 'total'),
    h('div', { class: 'need-total' }, field('need_total_n', countInput('need_total', 3))),
    h('div', { class: 'need-mix grid-3' }, TEAM_TYPES.map((tt) => field(`team_${tt}`, countInput(`team_${tt}`)))),
    h('div', { class: 'skills grid-3' }, h('span', { class: 'sub' }, t('skills')),
      SKILLS.map((sk) => field(`skill_${sk}`, countInput(`skill_${sk}`)))));
}

/** The form element; `geo` fills the district list. */
export function raiseForm(geo, { mine }) {
  const districts = [...geo.divisions].sort((a, b) => Number(!mine(a.code)) - Number(!mine(b.code)));
  return h('form', { class: 'raise', id: 'raise', novalidate: true },
    h('fieldset', {}, h('legend', {}, t('desk_where')), h('p', { class: 'hint' }, t('map_click_hint')),
      h('div', { class: 'grid-2' },
        field('lat', h('input', { name: 'lat', type: 'number', step: 'any', min: -90, max: 90, required: true })),
        field('lon', h('input', { name: 'lon', type: 'number', step: 'any', min: -180, max: 180, required: true }))),
      h('div', { class: 'address-box' },
        field('address', h('input', { name: 'address', required: true, placeholder: t('address_ph'), maxlength: 200, autocomplete: 'off',
          role: 'combobox', 'aria-autocomplete': 'list', 'aria-controls': 'suggest' })),
        h('ul', { class: 'suggest', id: 'suggest', role: 'listbox', hidden: true })),
      field('area', h('input', { name: 'area', placeholder: t('area_ph'), maxlength: 40 })),
      h('div', { class: 'grid-2' },
        field('district', h('select', { name: 'district' }, districts.map((d) =>
          h('option', { value: d.code }, `${geo.name(d.code)} ${d.code}`)))),
        field('radius', h('select', { name: 'radius_m' }, [1000, 2000, 3000, 5000, 8000, 12000].map((m) =>
          h('option', { value: m, selected: m === 3000 }, m < 1000 ? `${m} m` : `${m / 1000} km`)))))),
    h('fieldset', {}, h('legend', {}, t('incident')),
      field('title', h('input', { name: 'title', required: true, placeholder: t('title_ph'), maxlength: 120 })),
      field('description', h('textarea', { name: 'description', rows: 2, placeholder: t('description_ph') })),
      h('div', { class: 'grid-2' },
        field('category', h('select', { name: 'category' }, geo.categories.map((c) => h('option', { value: c }, geo.category(c))))),
        h('div', { class: 'field field-wide' }, h('span', {}, t('kind')),
          segmented('kind', [['callout', 'kind_callout'], ['advisory', 'kind_advisory']], 'callout')))),
    needFields(),
    h('div', { class: 'advice' }, field('advice', h('textarea', { name: 'advice', rows: 3, placeholder: t('advice_ph'), maxlength: 1000 }))),
    // Sticky: the raise button stays in sight however long the form (1440×900 and 390 px alike).
    h('div', { class: 'raise-bar' }, h('p', { class: 'form-error', id: 'raise-error', role: 'alert' }),
      h('button', { type: 'submit', class: 'btn-primary btn-big', id: 'raise-submit' }, t('submit_raise'))));
}

/** Show only the need inputs of the chosen mode (and none for an advisory). */
export function syncNeedMode(form) {
  const mode = form.elements.need_mode.value;
  const advisory = form.elements.kind.value === 'advisory';
  form.querySelector('.need').hidden = advisory;
  form.querySelector('.advice').hidden = !advisory;
  form.querySelector('.need-total').hidden = mode !== 'total';
  form.querySelector('.need-mix').hidden = mode !== 'mix';
}

function need(form) {
  const skills = Object.fromEntries(SKILLS.map((s) => [s, num(form, `skill_${s}`)]).filter(([, n]) => n > 0));
  if (form.elements.need_mode.value === 'total') return { total: num(form, 'need_total'), skills };
  const teams = Object.fromEntries(TEAM_TYPES.map((tt) => [tt, num(form, `team_${tt}`)]).filter(([, n]) => n > 0));
  return { teams, skills };
}

/** A check the browser makes itself, reported like the API's: {field, message}. */
export class FieldError extends Error {
  constructor(field, message) { super(message); this.field = field; }
}

/** The request body, or throws FieldError for what the browser can check itself. */
export function raiseBody(form) {
  const f = form.elements;
  if (f.lat.value === '' || f.lon.value === '') throw new FieldError('location', t('pick_location'));
  const body = {
    title: f.title.value.trim(), description: f.description.value.trim(), category: f.category.value,
    kind: f.kind.value, location: { lat: Number(f.lat.value), lon: Number(f.lon.value) },
    address: f.address.value.trim(), district: f.district.value, radius_m: Number(f.radius_m.value),
  };
  if (f.area.value.trim()) body.area = f.area.value.trim();
  if (body.kind === 'advisory') body.advice = f.advice.value.trim();
  if (body.kind === 'callout') {
    body.need = need(form);
    const n = body.need.total || Object.values(body.need.teams || {}).reduce((a, b) => a + b, 0);
    if (n < 1) throw new FieldError(body.need.total !== undefined ? 'need.total' : 'need', t('need_at_least_one'));
  }
  return body;
}

// The API's dotted field names → the input that holds the value.
const INPUT_OF = { location: 'lat', 'location.lat': 'lat', 'location.lon': 'lon', 'need.total': 'need_total', need: 'need_total' };
// pydantic's error types → a sentence in the UI's language (the API's own text is English).
const MESSAGE_OF = {
  missing: 'err_required', string_too_short: 'err_required', string_too_long: 'err_too_long',
  greater_than_equal: 'err_range', less_than_equal: 'err_range', greater_than: 'err_range', less_than: 'err_range',
  int_parsing: 'err_number', float_parsing: 'err_number', string_pattern_mismatch: 'err_pattern',
  literal_error: 'err_choice', enum: 'err_choice', out_of_area: 'err_out_of_area',
};

/** A known error type in the UI's language; a domain refusal (value_error, e.g. a location
 * outside the desk's districts) keeps the server's reason after it, which says why. */
function explain(e) {
  if (MESSAGE_OF[e.type]) return t(MESSAGE_OF[e.type]);
  const reason = String(e.message || '').replace(/^Value error, /, '');
  return e.type === 'value_error' && reason ? `${t('err_invalid')}：${reason}` : t('err_invalid');
}

function inputName(fieldName) {
  if (INPUT_OF[fieldName]) return INPUT_OF[fieldName];
  const m = fieldName.match(/^need\.(teams|skills)\.(\w+)$/);
  if (m) return `${m[1] === 'teams' ? 'team' : 'skill'}_${m[2]}`;
  return fieldName;
}

export function clearFieldErrors(form) {
  for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/**
 * Put each error beside its field; return those that name no field of the form (shown once,
 * in the line above the raise button). `errors`: [{field, message, type}] or FieldError.
 */
export function showFieldErrors(form, errors) {
  const stray = [];
  for (const e of errors) {
    const name = inputName(e.field || '');
    const slot = form.querySelector(`.field-error[data-for="${CSS.escape(name)}"]`);
    const text = e instanceof FieldError ? e.message : explain(e);
    if (!slot) { stray.push(`${t(e.field) === e.field ? e.field : t(e.field)}：${text}`); continue; }
    slot.textContent = text;
    if (form.elements[name]) form.elements[name].setAttribute('aria-invalid', 'true');
  }
  const first = form.querySelector('[aria-invalid=true]');
  if (first) first.focus();
  return stray;
}
