// The signed-in token lives in localStorage. The browser only reads the claims to label the
// screen (role, districts); the dispatcher verifies the signature on every request.
const KEY = 'baiying.token';

function b64urlJson(part) {
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** The claims of `token`, or null when it is not a JWT. */
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

export function token() { return localStorage.getItem(KEY); }

/** The current session ({token, claims}) or null if absent, malformed or expired. */
export function session() {
  const tok = token();
  const claims = claimsOf(tok);
  if (!claims || isExpired(claims)) return null;
  return { token: tok, claims };
}

export function signIn(tok) { localStorage.setItem(KEY, tok.trim()); }
export function signOut() { localStorage.removeItem(KEY); }

/** Districts the session may see: null means all. */
export function districtsOf(claims) {
  const ds = claims.districts || [];
  return claims.role === 'admin' || ds.includes('*') ? null : ds;
}
