// Live updates from the dispatcher's server-sent events (GET /v1/stream). EventSource cannot
// send headers, and an access token in a URL is kept by every log on the way, so each
// connection first trades the token (in the header) for a ticket good for a few seconds and
// for the stream only (POST /v1/stream/tickets). Handlers get {type, data}; pages refetch
// what changed, so a missed event is healed by the next one and by the reconnect refresh.
import { request } from './api.js';
import { token } from './auth.js';

// The dispatcher names each event by its notice type; unnamed events arrive as "message".
const NAMES = ['incident', 'callout', 'change', 'step', 'message'];

export class LiveStream {
  constructor({ onEvent, onStatus }) {
    this.onEvent = onEvent;
    this.onStatus = onStatus || (() => {});
    this.retryMs = 1000;
    this.source = null;
    window.addEventListener('pagehide', () => this.stop());
  }

  async start() {
    if (!token()) return this.onStatus('offline');
    let ticket;
    try {
      ({ ticket } = await request('POST', '/v1/stream/tickets'));
    } catch {
      return this.retry(); // signed out, or the dispatcher unreachable: try again later
    }
    const es = new EventSource(`/v1/stream?ticket=${encodeURIComponent(ticket)}`);
    this.source = es;
    es.onopen = () => { this.retryMs = 1000; this.onStatus('live', true); };
    es.onerror = () => {
      // EventSource reconnects by itself with the same URL; the ticket has expired by then
      // and is refused, which closes it: a fresh ticket on our own retry.
      if (es.readyState === EventSource.CLOSED) this.retry();
      else this.onStatus('reconnecting');
    };
    for (const name of NAMES) es.addEventListener(name, (e) => this.dispatch(name, e));
  }

  /** The server refused or the stream ended for good: try again with a growing pause. */
  retry() {
    this.onStatus('offline');
    this.stop();
    setTimeout(() => this.start(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 30000);
  }

  dispatch(name, evt) {
    let data = null;
    try { data = evt.data ? JSON.parse(evt.data) : null; } catch { data = { text: evt.data }; }
    const type = (data && (data.type || data.event)) || name;
    this.onEvent({ type, data: (data && data.data) || data });
  }

  stop() {
    if (this.source) this.source.close();
    this.source = null;
  }
}

/** The incident id an event is about, whatever its shape. */
export function incidentIdOf(evt) {
  const d = evt.data || {};
  return d.incident_id || (d.incident && d.incident.id) || (String(evt.type).startsWith('incident') ? d.id : null);
}

/** Collapse bursts (a round of 30 call-outs) into one refresh per `ms`. */
export function debounce(fn, ms = 150) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
