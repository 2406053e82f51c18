// 以案说防 campaigns (issue 14): a case from the library or a free notice, to an audience by team
// type, district, radius or hotspot cell, now / at a time / weekly / monthly. "Dry run" shows the
// audience size, segments and carrier time; "send" is offered only for the form that was dry-run.
// Below, the campaigns with their runs and reach. Over the dispatcher's /v1/campaigns and /v1/cases.
import { h, toast } from './dom.js';
import { t } from './i18n.js';
import { request, ApiError } from './api.js';
import { districtsOf } from './auth.js';
import { startShell } from './shell.js';
import { FieldError, clearFieldErrors, showFieldErrors } from './desk_form.js';
import { campaignForm, bodyOf, hotspotFrom, syncForm, formValues, restoreValues } from './campaigns_form.js';
import { dryRunPanel, campaignList, campaignDetail } from './campaigns_view.js';
import './campaigns_i18n.js';

/** The districts a session may choose between (null claims: every district of the map). */
function districtChoices(claims, geo) {
  const mine = districtsOf(claims);
  return mine === null ? geo.divisions.map((d) => d.code) : mine;
}

/** A refusal of personal data in the page's words; other field errors as the desk shows them. */
function inWords(d) {
  return /personal data/.test(d.message || '') ? new FieldError(d.field, t('camp_pii_refused')) : d;
}

async function renderCampaigns(main, sess, geo) {
  const params = new URLSearchParams(location.search);
  const state = { cases: [], campaigns: [], current: null, reach: [], dry: null, dryFor: null,
    hotspot: hotspotFrom(params), from: params.get('from') };
  const load = async () => {
    try { state.campaigns = await request('GET', '/v1/campaigns'); } catch (err) { toast(err.message, 'error'); }
  };
  const pick = async (id) => {
    try {
      [state.current, state.reach, state.campaigns] = await Promise.all([request('GET', `/v1/campaigns/${id}`),
        request('GET', `/v1/campaigns/${id}/reach`).then((r) => r.rows), request('GET', '/v1/campaigns')]);
    } catch (err) { toast(err.message, 'error'); }
    drawBelow();
  };
  const form = () => main.querySelector('#camp-form');
  const failed = (err) => {
    const f = form();
    const named = err instanceof ApiError && Array.isArray(err.detail) ? err.detail.map(inWords) : [];
    const stray = showFieldErrors(f, named);
    // Errors placed beside their fields need no repeat here; the rest (or a network error) do.
    f.querySelector('#camp-error').textContent = stray.length ? stray.join('；') : (named.length ? '' : err.message);
  };
  const submit = async (path) => {
    const f = form();
    clearFieldErrors(f);
    f.querySelector('#camp-error').textContent = '';
    const body = bodyOf(f, state.hotspot);
    try { return { body, answer: await request('POST', path, { body }) }; } catch (err) { failed(err); return null; }
  };
  const dryRun = async () => {
    const done = await submit('/v1/campaigns:dry-run');
    state.dry = done && done.answer;
    state.dryFor = done && JSON.stringify(done.body);
    drawDry();
  };
  const send = async () => {
    const done = await submit('/v1/campaigns');
    if (!done) return;
    toast(t('camp_saved'));
    state.dry = null; state.dryFor = null;
    await pick(done.answer.id);
    drawDry();
  };
  // Send only what was dry-run: any edit after it asks for a new dry run.
  const fresh = () => state.dryFor !== null && state.dryFor === JSON.stringify(bodyOf(form(), state.hotspot));
  function drawDry() {
    const f = form();
    const panel = dryRunPanel(state.dry);
    main.querySelector('#camp-dry-slot').replaceChildren(...(panel ? [panel] : []));
    f.querySelector('#camp-send').disabled = !fresh();
    f.querySelector('#camp-send-note').textContent = fresh() ? '' : t(state.dry ? 'camp_dry_stale' : 'camp_dry_first');
  }
  function drawBelow() {
    main.querySelector('#camp-below').replaceChildren(
      h('div', { class: 'card' }, h('h2', {}, t('camp_list')), campaignList(state.campaigns, state.current && state.current.id, geo, pick)),
      h('div', { class: 'card' }, campaignDetail(state.current, state.reach, geo, cancel)));
  }
  const cancel = async () => {
    try { await request('POST', `/v1/campaigns/${state.current.id}:cancel`); toast(t('camp_cancelled')); } catch (err) { toast(err.message, 'error'); }
    await pick(state.current.id);
  };
  function draw() {
    const typed = form() ? formValues(form()) : null;
    const f = campaignForm({ cases: state.cases, districts: districtChoices(sess.claims, geo), geo, hotspot: state.hotspot, from: state.from });
    if (typed) restoreValues(f, typed);
    f.addEventListener('submit', (e) => { e.preventDefault(); dryRun(); });
    f.addEventListener('change', () => { syncForm(f); drawDry(); });
    f.addEventListener('input', () => drawDry());
    f.querySelector('#camp-send').addEventListener('click', send);
    const remove = f.querySelector('#camp-hotspot-remove');
    if (remove) remove.addEventListener('click', () => { state.hotspot = null; f.querySelector('#camp-hotspot').remove(); drawDry(); });
    main.replaceChildren(h('section', { class: 'page' },
      h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, t('camp_title')), h('p', { class: 'muted' }, t('camp_help')))),
      h('div', { class: 'split camp-top' }, h('div', { class: 'card' }, h('h2', {}, t('camp_new')), f),
        h('div', { class: 'card', id: 'camp-dry-slot' })),
      h('div', { class: 'split', id: 'camp-below' })));
    drawDry();
    drawBelow();
  }
  try { state.cases = await request('GET', '/v1/cases?limit=200'); } catch (err) { toast(err.message, 'error'); }
  await load();
  draw();
  return draw;
}

let redraw = null;
startShell({ page: 'campaigns', render: async (main, sess, geo) => { redraw = await renderCampaigns(main, sess, geo); },
  onLang: () => redraw && redraw() });
