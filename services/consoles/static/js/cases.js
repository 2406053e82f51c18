// 以案说防 case library (issue 14): search cases by category, district and words; read a case's
// account and 防范提示 in the page's language; turn a closed incident into a case, with a refusal
// of personal data shown beside the field it came from. Over the dispatcher's /v1/cases.
import { h, toast, dateTime } from './dom.js';
import { t, lang } from './i18n.js';
import { api, request, ApiError } from './api.js';
import { districtsOf } from './auth.js';
import { startShell } from './shell.js';
import { FieldError, clearFieldErrors, showFieldErrors } from './desk_form.js';
import './cases_i18n.js';

const TEXTS = ['title_zh', 'account_zh', 'advice_zh', 'title_en', 'account_en', 'advice_en'];
const LONG = new Set(['account_zh', 'advice_zh', 'account_en', 'advice_en']);

/** The case's text in the page's language; Chinese (always present) when English is missing. */
function caseText(c, part) {
  const en = lang() === 'en' ? c[`${part}_en`] : null;
  return { text: en || c[`${part}_zh`], fallback: lang() === 'en' && !en };
}

/** The districts a session may choose between (null: every district of the map). */
function districtChoices(claims, geo) {
  const mine = districtsOf(claims);
  return mine === null ? geo.divisions.map((d) => d.code) : mine;
}

function chooser(id, codes, allKey, value, label) {
  return h('select', { id, name: id }, h('option', { value: '' }, t(allKey)),
    codes.map((c) => h('option', { value: c, selected: c === value }, label(c))));
}

function removedLine(removed) {
  const parts = Object.entries(removed || {}).map(([k, n]) => `${t(`pii_${k}`)} ${n}`);
  return parts.length ? t('case_removed', { list: parts.join(lang() === 'en' ? ', ' : '、') }) : t('case_removed_none');
}

function caseDetail(c, geo) {
  if (!c) return h('p', { class: 'empty' }, t('cases_pick'));
  const title = caseText(c, 'title'), account = caseText(c, 'account'), advice = caseText(c, 'advice');
  return h('article', { id: 'case-detail', 'data-id': c.id },
    h('h2', {}, title.text), h('p', { class: 'muted small' },
      `${geo.category(c.category)} · ${geo.name(c.district)} · ${dateTime(c.created_at)} · ${t('case_by')} ${c.created_by}`),
    account.fallback ? h('p', { class: 'muted small' }, t('case_no_en')) : null,
    h('h3', {}, t('case_account')), h('p', { class: 'case-text', id: 'case-account' }, account.text),
    h('h3', {}, t('case_advice')), h('p', { class: 'case-text case-advice', id: 'case-advice' }, advice.text),
    h('p', { class: 'muted small', id: 'case-removed' }, removedLine(c.removed)));
}

function field(name, input) {
  return h('label', { class: 'field' }, h('span', {}, t(`case_${name}`)), input,
    h('small', { class: 'field-error', 'data-for': name, role: 'alert' }));
}

function caseForm(incidents, geo, onSave) {
  const wanted = new URLSearchParams(location.search).get('incident'); // cases.html?incident=<id>
  const pick = h('select', { name: 'incident_id', required: true }, incidents.length
    ? incidents.map((i) => h('option', { value: i.id, selected: i.id === wanted }, `${i.title} · ${geo.name(i.district)} · ${dateTime(i.created_at)}`))
    : h('option', { value: '' }, t('case_incident_none')));
  const category = h('select', { name: 'category' }, h('option', { value: '' }, '—'),
    geo.categories.map((c) => h('option', { value: c }, geo.category(c))));
  const text = (n) => field(n, LONG.has(n) ? h('textarea', { name: n, rows: 3 }) : h('input', { name: n }));
  const texts = ['zh', 'en'].map((l) => h('div', {}, TEXTS.filter((n) => n.endsWith(l)).map(text)));
  const error = h('p', { class: 'form-error', id: 'case-error', role: 'alert' });
  const form = h('form', { class: 'case-form', id: 'case-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); onSave(form, error); } },
    h('p', { class: 'muted small' }, t('case_new_help')), field('incident', pick), field('category', category),
    h('div', { class: 'grid-2' }, texts), error,
    h('button', { type: 'submit', class: 'btn-primary', id: 'case-save', disabled: !incidents.length }, t('case_save')));
  return form;
}

function bodyOf(form) {
  const body = {};
  for (const n of ['incident_id', 'category', ...TEXTS]) {
    const v = form.elements[n].value.trim();
    if (v) body[n] = v;
  }
  return body;
}

/** A refusal of personal data in the page's words; other field errors as the desk shows them. */
function fieldErrors(err) {
  return (Array.isArray(err.detail) ? err.detail : []).map((d) => (
    /identify someone/.test(d.message || '') ? new FieldError(d.field, t('case_pii_refused')) : d));
}

async function renderCases(main, sess, geo) {
  const codes = districtChoices(sess.claims, geo);
  const state = { filter: { category: '', district: '', q: '' }, cases: [], current: null, incidents: [] };
  const search = async () => {
    const params = new URLSearchParams(Object.entries(state.filter).filter(([, v]) => v));
    try { state.cases = await request('GET', `/v1/cases?${params}`); } catch (err) { toast(err.message, 'error'); }
    if (!state.cases.some((c) => c.id === (state.current && state.current.id))) state.current = state.cases[0] || null;
  };
  const save = async (form, error) => {
    clearFieldErrors(form);
    error.textContent = '';
    try {
      const made = await request('POST', '/v1/cases', { body: bodyOf(form) });
      toast(t('case_saved'));
      state.filter = { category: '', district: '', q: '' };
      await search();
      state.current = made;
      await loadIncidents();
      draw();
    } catch (err) {
      const stray = err instanceof ApiError ? showFieldErrors(form, fieldErrors(err)) : [];
      const placed = form.querySelector('[aria-invalid=true]');
      error.textContent = stray.length ? stray.join('；') : (placed ? t('case_fix_fields') : err.message);
    }
  };
  const loadIncidents = async () => {
    try {
      const [closed, written] = await Promise.all([api.listIncidents({ status: 'closed', limit: 200 }), request('GET', '/v1/cases?limit=200')]);
      const done = new Set(written.map((c) => c.incident_id)); // one case per incident: offer the rest
      state.incidents = closed.filter((i) => !done.has(i.id));
    } catch (err) { toast(err.message, 'error'); }
  };
  const toolbar = () => h('form', { class: 'toolbar', id: 'case-search', onsubmit: async (e) => {
    e.preventDefault();
    const f = e.target.elements;
    state.filter = { category: f['case-category'].value, district: f['case-district'].value, q: f['case-q'].value.trim() };
    await search();
    draw();
  } },
  h('label', {}, t('category'), chooser('case-category', geo.categories, 'cases_category_all', state.filter.category, geo.category)),
  h('label', {}, t('district'), chooser('case-district', codes, 'cases_district_all', state.filter.district, geo.name)),
  h('label', {}, t('cases_q'), h('input', { id: 'case-q', name: 'case-q', value: state.filter.q })),
  h('button', { type: 'submit', class: 'btn-secondary' }, t('cases_search')));
  const list = () => (state.cases.length ? h('ul', { class: 'case-list', id: 'cases' }, state.cases.map((c) => h('li', {
    'data-id': c.id, class: state.current && c.id === state.current.id ? 'active' : '',
    onclick: () => { state.current = c; draw(); },
  }, h('b', {}, caseText(c, 'title').text), h('div', { class: 'muted small' }, `${geo.category(c.category)} · ${geo.name(c.district)} · ${dateTime(c.created_at)}`))))
    : h('p', { class: 'empty', id: 'cases-empty' }, t('cases_none')));
  function draw() {
    main.replaceChildren(h('section', { class: 'page' },
      h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, t('cases_title')), h('p', { class: 'muted' }, t('cases_help')))),
      h('div', { class: 'card' }, toolbar()),
      h('div', { class: 'split' }, h('div', { class: 'card' }, list()), h('div', { class: 'card' }, caseDetail(state.current, geo))),
      h('div', { class: 'card' }, h('h2', {}, t('case_new')), caseForm(state.incidents, geo, save))));
  }
  await Promise.all([search(), loadIncidents()]);
  draw();
  return draw;
}

let redraw = null;
startShell({ page: 'cases', render: async (main, sess, geo) => { redraw = await renderCases(main, sess, geo); },
  onLang: () => redraw && redraw() });
