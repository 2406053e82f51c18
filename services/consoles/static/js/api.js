// The dispatcher API, same origin. Every call carries the bearer token; a non-2xx answer becomes
// an ApiError whose message is readable ({"error", "detail"} from the service, else the status).
import { freshToken } from './auth.js';
import { t } from './i18n.js';

export class ApiError extends Error {
  constructor(status, message, detail) {
    super(message);
    this.status = status;
    this.detail = detail;
  }
}

function statusText(status) {
  if (status >= 500) return t('err_5xx');
  return t(`err_${status}`) === `err_${status}` ? `HTTP ${status}` : t(`err_${status}`);
}

/** Turn the service's error body into one line: "无权限：not authorised for district 360703". */
function readable(status, body) {
  let msg = body && (body.error || body.message);
  let detail = body && body.detail;
  if (Array.isArray(detail)) {
    detail = detail.map((d) => (d.field ? `${d.field}: ${d.message || d.msg}` : d.msg || JSON.stringify(d))).join('; ');
  } else if (detail && typeof detail === 'object') detail = JSON.stringify(detail);
  if (!msg && typeof detail === 'string') [msg, detail] = [detail, null];
  const parts = [statusText(status), msg, detail && detail !== msg ? detail : null].filter(Boolean);
  return { text: parts.join('：'), detail: body && body.detail };
}

export async function request(method, path, { body, headers = {} } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers } };
  const tok = await freshToken(); // refreshed first if it is about to expire
  if (tok) init.headers.Authorization = `Bearer ${tok}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, t('err_network'), String(err));
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { error: text.slice(0, 200) }; }
  if (!res.ok) {
    const { text: message, detail } = readable(res.status, data);
    throw new ApiError(res.status, message, detail);
  }
  return data;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

function items(data) { return Array.isArray(data) ? data : (data && (data.items || data.incidents || data.callouts)) || []; }

export const api = {
  listIncidents: async (params = {}) => items(await request('GET', `/v1/incidents${query(params)}`)),
  incident: (id) => request('GET', `/v1/incidents/${encodeURIComponent(id)}`),
  callouts: async (id) => items(await request('GET', `/v1/incidents/${encodeURIComponent(id)}/callouts`)),
  audit: async (id) => items(await request('GET', `/v1/incidents/${encodeURIComponent(id)}/audit`)),
  stats: (params = {}) => request('GET', `/v1/stats${query(params)}`),
  raise: (body, key) => request('POST', '/v1/incidents', { body, headers: { 'Idempotency-Key': key } }),
  cancel: (id) => request('POST', `/v1/incidents/${encodeURIComponent(id)}/cancel`, { body: {} }),
  nextSteps: (id) => request('GET', `/v1/incidents/${encodeURIComponent(id)}/next-steps`),
  nextStep: (id, body) => request('POST', `/v1/incidents/${encodeURIComponent(id)}/next-steps`, { body }),
  gazetteer: (q, limit = 8) => request('GET', `/v1/gazetteer/search${query({ q, limit })}`),
  close: (id) => request('POST', `/v1/incidents/${encodeURIComponent(id)}/close`, { body: {} }),
};
