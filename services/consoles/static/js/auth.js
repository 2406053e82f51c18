// Who is signed in. Two modes, chosen by the server (/console-config.json `auth`):
// - "oidc": staff sign in at the organisation's provider (oidc.js, code flow + PKCE). Tokens are
//   kept in this module's memory only and refreshed before they expire; the header's name, role
//   and districts are what the dispatcher makes of the token (GET /v1/auth/me), not a guess here.
// - "dev": a pasted development token (`baiying token`) kept in localStorage, for the demo and the
//   tests only; the server offers this mode only when it accepts no provider tokens.
// Either way the browser only labels the screen; the dispatcher verifies every request.
import * as oidc from './oidc.js';

const KEY = 'baiying.token';
const SIGNED_OUT = '#signed-out';
let mode = 'dev';
let cfg = null;
let current = null; // oidc: { tokens, claims }
let unentitled = null; // oidc: tokens of a user the service refused (kept to sign them out)
let timer = null;
let refreshing = null;

function b64urlJson(part) {
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** The claims of a development `token`, or null when it is not one. */
export function claimsOf(token) {
  const parts = (token || '').trim().split('.');
  if (parts.length !== 3) return null;
  try {
    const claims = b64urlJson(parts[1]);
    return claims && typeof claims.role === 'string' ? claims : null;
  } catch {
    return null;
  }
}

export function isExpired(claims) {
  return typeof claims.exp === 'number' && claims.exp * 1000 < Date.now();
}

/** Whether the pages sign in with pasted development tokens (else at the provider). */
export function devTokens() { return mode === 'dev'; }

export function token() {
  if (mode === 'oidc') return current ? current.tokens.access_token : null;
  return localStorage.getItem(KEY);
}

/** The current session ({token, claims: {sub, role, districts, name?}}) or null. */
export function session() {
  if (mode === 'oidc') return current ? { token: current.tokens.access_token, claims: current.claims } : null;
  const tok = token();
  const claims = claimsOf(tok);
  if (!claims || isExpired(claims)) return null;
  return { token: tok, claims };
}

/** Development mode: keep a pasted token. */
export function signIn(tok) { localStorage.setItem(KEY, tok.trim()); }

/** Provider mode: leave for the provider's sign-in page. */
export function signInAtProvider() { return oidc.beginSignIn(cfg); }

/** Sign out: development mode forgets the token; provider mode ends the session at the provider. */
export async function signOut() {
  if (mode !== 'oidc') {
    localStorage.removeItem(KEY);
    location.reload();
    return;
  }
  const tokens = (current && current.tokens) || unentitled;
  clearTimeout(timer);
  if (current) await endHere(current.tokens.access_token); // a refused user had no session here
  current = null;
  await oidc.signOutAtProvider(cfg, tokens && tokens.id_token, oidc.redirectUri() + SIGNED_OUT);
}

/** Our services drop the session at once too (auth.revocations.v1), not at the token's expiry. */
async function endHere(accessToken) {
  await fetch('/v1/auth/sign-out', { method: 'POST', headers: { Authorization: `Bearer ${accessToken}` } })
    .catch(() => null); // the provider's sign-out below still ends the session
}

/** Who the dispatcher takes this token for; a refusal (403 no role/district) names its reason. */
async function whoIs(accessToken) {
  const r = await fetch('/v1/auth/me', { headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' } });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.detail || body.error || `HTTP ${r.status}`);
  return body;
}

function schedule() {
  clearTimeout(timer);
  const left = current.tokens.expires_at - Date.now();
  // Well before expiry (a quarter of the lifetime, at most a minute), so no request meets a stale token.
  timer = setTimeout(refresh, Math.max(1000, left - Math.min(60000, left / 4)));
}

/** One refresh at a time (the provider rotates refresh tokens: a second use would be refused). */
function refresh() {
  if (!refreshing) {
    refreshing = oidc.refreshTokens(cfg, current.tokens)
      .then((tokens) => { current = { ...current, tokens }; schedule(); })
      // The provider's session ended or was revoked: sign in again (its SSO may still answer).
      .catch(() => { current = null; return oidc.beginSignIn(cfg); })
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

/** The access token for the next request, refreshed first if it is about to expire. */
export async function freshToken() {
  if (mode === 'oidc' && current && current.tokens.expires_at - Date.now() < 5000) await refresh();
  return token();
}

/**
 * Resolve who is signed in before the page renders: {mode, session, signedOut?, error?}.
 * Provider mode without a session leaves for the provider (never resolves), unless the user has
 * just signed out there (then the page offers to sign in again rather than bouncing back).
 */
export async function startAuth(authCfg) {
  if (!authCfg || authCfg.mode !== 'oidc') return { mode: 'dev', session: session() };
  mode = 'oidc';
  cfg = authCfg;
  if (location.hash === SIGNED_OUT) {
    history.replaceState(null, '', oidc.redirectUri() + location.search);
    return { mode, session: null, signedOut: true };
  }
  const answer = oidc.answerInUrl();
  if (!answer) return oidc.beginSignIn(cfg);
  let tokens = null;
  try {
    tokens = await oidc.completeSignIn(cfg, answer);
    current = { tokens, claims: await whoIs(tokens.access_token) };
    schedule();
    return { mode, session: session() };
  } catch (err) {
    unentitled = tokens;
    return { mode, session: null, error: String((err && err.message) || err) };
  }
}

/** Districts the session may see: null means all. */
export function districtsOf(claims) {
  const ds = claims.districts || [];
  return claims.role === 'admin' || ds.includes('*') ? null : ds;
}
