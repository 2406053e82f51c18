// OpenID Connect sign-in for staff: the authorization-code flow with PKCE (S256) against the
// provider named in /console-config.json. Only the one-use values of a sign-in in flight
// (state, nonce, PKCE verifier) wait in sessionStorage across the provider's redirect; tokens
// never leave this module's memory (no storage, no script-readable cookie), so a reload signs in
// again with a fresh code flow, which the provider's own SSO session answers without a prompt.
const PENDING = 'baiying.oidc.pending';
let metadata = null;

function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(n = 32) { return b64url(crypto.getRandomValues(new Uint8Array(n))); }

async function challengeOf(verifier) {
  return b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
}

/** The claims of a JWT, unverified (the API verifies access tokens; see checkIdToken). */
export function jwtClaims(token) {
  const part = String(token || '').split('.')[1] || '';
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))));
}

/** The provider's discovery document (endpoints), fetched once per page. */
export async function discover(cfg) {
  if (!metadata) {
    const r = await fetch(`${cfg.issuer}/.well-known/openid-configuration`, { headers: { Accept: 'application/json' } });
    if (!r.ok) throw new Error(`discovery ${r.status}`);
    metadata = await r.json();
    if (metadata.issuer !== cfg.issuer) throw new Error('discovery names another issuer');
  }
  return metadata;
}

/** This page, without the fragment the provider answers in: where the provider sends us back. */
export function redirectUri() { return location.origin + location.pathname; }

/** Leave for the provider's sign-in page; it comes back here with #code=…&state=…. */
export async function beginSignIn(cfg) {
  const meta = await discover(cfg);
  const pending = { state: randomString(), nonce: randomString(), verifier: randomString(48), back: location.search };
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  const q = new URLSearchParams({
    client_id: cfg.client_id, response_type: 'code', response_mode: 'fragment', scope: cfg.scope || 'openid',
    redirect_uri: redirectUri(), state: pending.state, nonce: pending.nonce,
    code_challenge: await challengeOf(pending.verifier), code_challenge_method: 'S256',
    ui_locales: document.documentElement.lang === 'en' ? 'en' : 'zh-CN', // the page's language there too
  });
  location.assign(`${meta.authorization_endpoint}?${q}`);
  return new Promise(() => {}); // the page is leaving
}

/** The provider's answer in the fragment, if this load is one ({code, state} or {error}). */
export function answerInUrl() {
  const p = new URLSearchParams(location.hash.slice(1));
  return p.has('state') ? Object.fromEntries(p) : null;
}

function takePending() {
  const raw = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING); // one use, whatever happens next
  return raw ? JSON.parse(raw) : null;
}

/** The ID token is the one we asked for: our nonce, this issuer, for this client, not expired. */
export function checkIdToken(idToken, cfg, nonce) {
  const c = jwtClaims(idToken);
  const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
  if (c.nonce !== nonce) throw new Error('nonce mismatch');
  if (c.iss !== cfg.issuer) throw new Error('id token from another issuer');
  if (!aud.includes(cfg.client_id)) throw new Error('id token for another client');
  if (typeof c.exp !== 'number' || c.exp * 1000 < Date.now()) throw new Error('id token expired');
  return c;
}

async function tokenCall(cfg, form) {
  const meta = await discover(cfg);
  const r = await fetch(meta.token_endpoint, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: cfg.client_id, ...form }),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error_description || body.error || `token ${r.status}`);
  return { ...body, expires_at: Date.now() + (body.expires_in || 60) * 1000 };
}

/** Finish a sign-in: state checked, code exchanged with the PKCE verifier, ID token checked. */
export async function completeSignIn(cfg, answer) {
  const pending = takePending();
  history.replaceState(null, '', redirectUri() + ((pending && pending.back) || ''));
  if (!pending || answer.state !== pending.state) throw new Error('state mismatch');
  if (answer.error) throw new Error(answer.error_description || answer.error);
  const tokens = await tokenCall(cfg, {
    grant_type: 'authorization_code', code: answer.code, redirect_uri: redirectUri(), code_verifier: pending.verifier,
  });
  checkIdToken(tokens.id_token, cfg, pending.nonce);
  return tokens;
}

/** New tokens for the refresh token (the provider rotates it; keep the ID token if none comes). */
export async function refreshTokens(cfg, tokens) {
  const next = await tokenCall(cfg, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
  return { ...next, id_token: next.id_token || tokens.id_token };
}

/** Leave for the provider's sign-out; it ends its SSO session and sends us to `back`. */
export async function signOutAtProvider(cfg, idToken, back) {
  const meta = await discover(cfg);
  const q = new URLSearchParams({ client_id: cfg.client_id, post_logout_redirect_uri: back });
  if (idToken) q.set('id_token_hint', idToken);
  location.assign(`${meta.end_session_endpoint}?${q}`);
}
