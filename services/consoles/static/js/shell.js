// The frame every console page shares: top bar (brand, navigation, live indicator, language,
// who is signed in) and the sign-in gate: the provider's sign-in, or a pasted development token.
import { h, $ } from './dom.js';
import { t, lang, setLang, applyI18n, onLangChange } from './i18n.js';
import { startAuth, signIn, signOut, signInAtProvider, claimsOf, isExpired, districtsOf } from './auth.js';
import { loadGeo } from './geo.js';

const NAV = [['desk', '/desk', 'nav_desk'], ['dashboard', '/dashboard', 'nav_dashboard'],
  ['stats', '/dashboard/stats', 'nav_stats'], ['roster', '/roster.html', 'nav_roster'],
  ['cases', '/cases.html', 'nav_cases'], ['hotspots', '/hotspots.html', 'nav_hotspots'],
  ['report', '/report.html', 'nav_report'], ['campaigns', '/campaigns.html', 'nav_campaigns']];

function whoAmI(claims, geo) {
  const ds = districtsOf(claims);
  const names = ds === null ? t('all_districts') : ds.map((c) => geo.name(c)).join('、');
  return h('span', { class: 'who', title: claims.sub },
    claims.name ? h('span', { class: 'who-name' }, claims.name) : null,
    h('span', { class: 'who-role' }, t(`role_${claims.role}`)), h('span', { class: 'who-districts' }, names));
}

function topBar(active, sess, geo) {
  const nav = h('nav', { class: 'nav' }, NAV.map(([key, href, label]) =>
    h('a', { href, class: key === active ? 'active' : '', 'aria-current': key === active ? 'page' : null }, t(label))));
  const right = h('div', { class: 'bar-right' },
    h('span', { id: 'live', class: 'live live-offline' }, h('i'), h('span', {}, t('offline'))),
    sess ? whoAmI(sess.claims, geo) : null,
    h('button', { type: 'button', class: 'btn-ghost', id: 'lang', onclick: () => setLang(lang() === 'zh' ? 'en' : 'zh') }, t('lang_switch')),
    sess ? h('button', { type: 'button', class: 'btn-ghost', id: 'signout', onclick: () => signOut() }, t('sign_out')) : null);
  return [h('a', { class: 'brand', href: '/dashboard' }, h('b', {}, t('brand')), h('small', {}, t('brand_sub'))), nav, right];
}

/** Show the stream state in the top bar: live (green), reconnecting, offline. */
export function setLive(state) {
  const el = $('#live');
  if (!el) return;
  el.className = `live live-${state}`;
  el.lastChild.textContent = t(state);
  el.dataset.state = state;
}

function signInCard(main) {
  const input = h('textarea', { id: 'token', rows: 5, spellcheck: 'false', autocomplete: 'off', placeholder: 'eyJhbGciOi…' });
  const msg = h('p', { class: 'form-error', role: 'alert' });
  const submit = (e) => {
    e.preventDefault();
    const claims = claimsOf(input.value);
    if (!claims) { msg.textContent = t('signin_bad'); return; }
    if (isExpired(claims)) { msg.textContent = t('signin_expired'); return; }
    signIn(input.value);
    location.reload();
  };
  main.replaceChildren(h('form', { class: 'card signin', onsubmit: submit },
    h('h1', {}, t('signin_title')), h('p', {}, t('signin_help')),
    h('pre', { class: 'cmd' }, 'baiying token --role supervisor --district 360702'),
    h('label', { for: 'token' }, t('signin_token')), input, msg,
    h('button', { type: 'submit', class: 'btn-primary', id: 'signin' }, t('signin_submit'))));
}

/** Provider sign-in: a button to the provider, after a sign-out or a refused sign-in (with why). */
function providerCard(main, auth) {
  const note = auth.error ? `${t('signin_failed')}${auth.error}` : t(auth.signedOut ? 'signed_out' : 'signin_provider_help');
  main.replaceChildren(h('div', { class: 'card signin' },
    h('h1', {}, t('signin_title')), h('p', { class: auth.error ? 'form-error' : '', role: 'alert', id: 'signin-note' }, note),
    h('button', { type: 'button', class: 'btn-primary', id: 'signin-provider', onclick: () => signInAtProvider() }, t('signin_provider')),
    auth.error ? h('button', { type: 'button', class: 'btn-secondary', id: 'signin-switch', onclick: () => signOut() }, t('signin_switch')) : null));
}

/** Build the frame, then `render(main, session, geo)` once signed in; re-run on language change. */
export async function startShell({ page, render, onLang }) {
  document.documentElement.lang = lang() === 'en' ? 'en' : 'zh-CN';
  const geo = await loadGeo();
  const auth = await startAuth(geo.mapConfig && geo.mapConfig.auth);
  const sess = auth.session;
  const gate = () => (auth.mode === 'oidc' ? providerCard(main, auth) : signInCard(main));
  const bar = $('#topbar'), main = $('#main');
  const paint = () => {
    const live = $('#live') && $('#live').dataset.state;
    document.title = `${t('brand')} · ${t(NAV.find(([key]) => key === page)[2])}`; // the tab, in the chosen language too
    bar.replaceChildren(...topBar(page, sess, geo));
    if (live) setLive(live);
    applyI18n(document);
  };
  paint();
  onLangChange(() => { paint(); if (sess && onLang) onLang(); else if (!sess) gate(); });
  if (!sess) return gate();
  await render(main, sess, geo);
}
