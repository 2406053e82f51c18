// Next steps on a short or unmet call, for the duty desk of the incident's district only:
// another round, a wider radius, a changed need, more time, a phoned-in reply, or an advisory.
// The server says which steps it offers now (GET …/next-steps); each button opens a small
// form in place, and POST …/next-steps takes the step (audited; the timeline shows it).
import { h, toast } from './dom.js';
import { t, lang } from './i18n.js';
import { api } from './api.js';
import { session, districtsOf } from './auth.js';
import { TEAM_TYPES } from './model.js';

/** Whether this session is the duty desk of `district` (the server checks again). */
export function mayActIn(district) {
  const sess = session();
  if (!sess || !['duty_desk', 'admin'].includes(sess.claims.role)) return false;
  const ds = districtsOf(sess.claims);
  return ds === null || ds.includes(district);
}

const ORDER = ['another_round', 'widen', 'change_need', 'extend', 'phoned_reply', 'advisory'];

function widenForm(inc) {
  const now = inc.radius_m || 3000;
  const options = [1.5, 2, 3, 5].map((k) => Math.round((now * k) / 100) * 100);
  return {
    inputs: [h('select', { name: 'radius_m' }, options.map((m) => h('option', { value: m }, `${(m / 1000).toFixed(1)} km`)))],
    body: (f) => ({ radius_m: Number(f.radius_m.value) }),
  };
}

// The head count and, per team type, how many of them: the need as the raise form has it,
// filled with what the incident asks for now (one more head than today's by default).
function needForm(inc) {
  const teams = (inc.need && inc.need.teams) || {};
  const count = (name, value, label) => h('label', { class: 'ns-count' }, h('span', {}, label),
    h('input', { type: 'number', name, min: 0, max: 500, value, inputmode: 'numeric' }));
  return {
    inputs: [
      count('total', Math.max(1, inc.coverage.required + 1), t('need_total_n')),
      ...TEAM_TYPES.map((tt) => count(`team_${tt}`, teams[tt] || 0, t(`team_${tt}`))),
    ],
    body: (f) => {
      const mix = Object.fromEntries(TEAM_TYPES.map((tt) => [tt, Number(f[`team_${tt}`].value)])
        .filter(([, n]) => n > 0));
      return { need: { total: Number(f.total.value), teams: mix } };
    },
  };
}

function extendForm() {
  return {
    inputs: [h('select', { name: 'minutes' }, [5, 10, 15, 30, 60].map((m) => h('option', { value: m }, t('ns_minutes', { n: m }))))],
    body: (f) => ({ minutes: Number(f.minutes.value) }),
  };
}

function replyForm(callouts) {
  const people = [...new Map(callouts.map((c) => [c.volunteer_id, c])).values()];
  return {
    inputs: [
      h('select', { name: 'volunteer_id', 'aria-label': t('ns_who') }, people.map((c) =>
        h('option', { value: c.volunteer_id }, `${c.name || c.volunteer_id.slice(0, 8)} · ${t(`cs_${c.state}`)}`))),
      h('select', { name: 'reply', 'aria-label': t('ns_reply') }, ['accept', 'decline', 'arrived'].map((r) => h('option', { value: r }, t(`ns_reply_${r}`)))),
      h('input', { name: 'note', maxlength: 500, placeholder: t('ns_note_ph') }),
    ],
    body: (f) => ({ volunteer_id: f.volunteer_id.value, reply: f.reply.value, note: f.note.value.trim() }),
  };
}

function advisoryForm(inc) {
  return {
    inputs: [h('textarea', { name: 'advice', rows: 3, maxlength: 1000, required: true, placeholder: t('advice_ph') },
      inc.description || inc.title)],
    body: (f) => ({ advice: f.advice.value.trim() }),
  };
}

const FORMS = {
  another_round: () => ({ inputs: [], body: () => ({}) }),
  widen: widenForm, change_need: needForm, extend: extendForm,
  phoned_reply: (inc, callouts) => replyForm(callouts), advisory: advisoryForm,
};

/** The step's inline form: inputs, a confirm button, a line for what the server refused. */
function stepForm(action, inc, callouts, after) {
  const spec = FORMS[action](inc, callouts);
  const msg = h('p', { class: 'form-error', role: 'alert' });
  const form = h('form', { class: 'ns-form', 'data-action': action, novalidate: true },
    h('span', { class: 'ns-title' }, t(`ns_${action}`)), ...spec.inputs,
    h('button', { type: 'submit', class: 'btn-primary', id: `ns-go-${action}` }, t('ns_confirm')),
    h('button', { type: 'button', class: 'btn-secondary', onclick: () => form.remove() }, t('ns_back')), msg);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.textContent = '';
    try {
      await api.nextStep(inc.id, { action, ...spec.body(form.elements) });
      toast(t('ns_done', { step: t(`ns_${action}`) }), 'ok');
      form.remove(); // the box is no longer kept: the redraw shows the incident as it is now
      after();
    } catch (err) { msg.textContent = err.message; }
  });
  return form;
}

/**
 * A box of next-step buttons, filled once the server says what it offers; empty for anyone
 * else (another district's desk, a supervisor) — `mayAct` spares them a refused request.
 */
// One box per incident and status, kept across the page's redraws (every stream notice
// redraws): the buttons never blink, and a form being typed into is never wiped. The record
// holds the latest incident and call-outs, so a step always acts on what the page shows now.
const boxes = new Map();

export function nextStepsBox(inc, callouts, { mayAct, after }) {
  if (!mayAct || inc.kind !== 'callout' || !inc.live) return null;
  const key = `${inc.id}|${inc.status}|${lang()}`;
  const kept = boxes.get(inc.id);
  if (kept && kept.key === key) {
    Object.assign(kept, { inc, callouts, after });
    return kept.box;
  }
  const rec = { key, inc, callouts, after, box: h('div', { class: 'next-steps', id: 'next-steps' }) };
  boxes.set(inc.id, rec);
  api.nextSteps(inc.id).then(({ offered }) => {
    const steps = ORDER.filter((a) => offered.includes(a));
    if (!steps.length || boxes.get(inc.id) !== rec) return;
    const slot = h('div', { class: 'ns-slot' });
    rec.box.replaceChildren(h('span', { class: 'figure-label' }, t('ns_heading')),
      h('div', { class: 'ns-buttons' }, steps.map((a) => h('button', {
        type: 'button', class: 'btn-secondary btn-small', id: `ns-${a}`,
        onclick: () => slot.replaceChildren(stepForm(a, rec.inc, rec.callouts, () => rec.after())),
      }, t(`ns_${a}`)))), slot);
  }).catch(() => {}); // no offer (e.g. a role the server refuses): no buttons
  return rec.box;
}
