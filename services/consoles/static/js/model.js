// One place that knows the dispatcher's JSON shapes. Pages use only these normalised objects,
// so an API field rename is a change here and nowhere else.
const LIVE = new Set(['mobilising', 'staffed', 'unmet', 'issued']);
export const TEAM_TYPES = ['patrol', 'community_security', 'security_volunteer', 'building_watch',
  'information_officer', 'unit_guard'];
export const SKILLS = ['first_aid', 'driver', 'mediation'];
export const CALLOUT_STATES = ['pending', 'sent', 'delivered', 'accepted', 'arrived', 'declined',
  'no_answer', 'failed', 'stood_down'];

const secondsBetween = (a, b) => (a && b ? (new Date(b) - new Date(a)) / 1000 : null);
const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function headcount(need) {
  if (!need) return 0;
  const sum = (o) => Object.values(o || {}).reduce((a, b) => a + (b || 0), 0);
  const maxOf = (o) => Math.max(0, ...Object.values(o || {}));
  return Math.max(need.total || 0, sum(need.teams), maxOf(need.skills));
}

function location(raw) {
  const loc = raw.location || {};
  return { lat: num(loc.lat) ?? num(raw.lat), lon: num(loc.lon) ?? num(raw.lon) };
}

/** The dispatcher's coverage (people who fit the need), else the older accepted/needed pair. */
function coverageOf(raw, accepted, needed) {
  const c = raw.coverage;
  if (c && typeof c === 'object' && num(c.required) !== null) {
    return { filled: c.filled, required: c.required, outstanding: num(c.outstanding) ?? 0,
      accepted: num(c.accepted) ?? accepted, complete: Boolean(c.complete), missing: c.missing || {}, lines: c.lines || [] };
  }
  return { filled: Math.min(accepted, needed), required: needed, outstanding: 0, accepted,
    complete: needed > 0 && accepted >= needed, missing: raw.missing || {}, lines: [] };
}

export function incident(raw) {
  const counts = raw.counts || raw.callout_counts || {};
  const accepted = num(raw.accepted) ?? ((counts.accepted || 0) + (counts.arrived || 0));
  const needed = num(raw.needed) ?? headcount(raw.need);
  const coverage = coverageOf(raw, accepted, needed);
  const { lat, lon } = location(raw);
  return {
    raw, id: raw.id || raw.incident_id, title: raw.title || '', description: raw.description || '',
    kind: raw.kind || 'callout', category: raw.category || 'other', status: raw.status || 'mobilising',
    district: raw.district, address: raw.address || raw.area || '', area: raw.area || '', lat, lon,
    radius_m: num(raw.radius_m) ?? num(raw.current_radius_m), round: num(raw.round) ?? 1,
    rounds_max: num(raw.rounds) ?? num(raw.escalation && raw.escalation.rounds),
    missing: coverage.missing, called: num(raw.called), advice: raw.advice || '',
    need: raw.need || {}, needed: coverage.required, accepted, coverage, counts,
    created_at: raw.created_at, first_callout_at: raw.first_callout_at,
    first_accept_at: raw.first_accept_at, staffed_at: raw.staffed_at, unmet_at: raw.unmet_at,
    ended_at: raw.ended_at,
    ttfa_s: num(raw.time_to_first_accept_s) ?? secondsBetween(raw.created_at, raw.first_accept_at),
    tts_s: num(raw.time_to_staffed_s) ?? secondsBetween(raw.created_at, raw.staffed_at),
    live: LIVE.has(raw.status || 'mobilising'),
  };
}

export function callout(raw) {
  const { lat, lon } = location(raw);
  return {
    raw, id: raw.id || raw.callout_id, volunteer_id: raw.volunteer_id, name: raw.name || '',
    phone: raw.phone || '', team_type: raw.team_type, skills: raw.skills || [], lat, lon,
    distance_m: num(raw.distance_m), rank: num(raw.rank), round: num(raw.round) ?? 1,
    state: raw.state || 'pending', created_at: raw.created_at, delivered_at: raw.delivered_at,
    answered_at: raw.answered_at, accepted_at: raw.accepted_at, arrived_at: raw.arrived_at,
    stood_down_at: raw.stood_down_at,
  };
}

/** Count call-outs by state (from the list, when the incident did not carry counts). */
export function countStates(callouts) {
  const counts = {};
  for (const c of callouts) counts[c.state] = (counts[c.state] || 0) + 1;
  return counts;
}

// Call-out states worth a line in the timeline. The API dates answers and arrivals; a failed
// delivery is dated only by the stream notice. Deliveries and stand-downs would drown the rest.
export const NOTABLE = new Set(['declined', 'no_answer', 'failed', 'arrived']);

/**
 * Events of an incident, newest first (what just happened is what a desk looks for), merged from its timestamps, its call-outs, the audit
 * log (raise, cancel, close, manual changes) and what the stream reported while watching.
 */
export function timeline(inc, callouts, audit = [], seen = []) {
  const ev = [];
  const add = (at, kind, vars = {}) => { if (at) ev.push({ at, kind, ...vars }); };
  add(inc.created_at, 'raised');
  const rounds = new Map();
  for (const c of callouts) {
    const r = rounds.get(c.round) || { at: c.created_at, count: 0 };
    if (c.created_at && c.created_at < r.at) r.at = c.created_at;
    rounds.set(c.round, { ...r, count: r.count + 1 });
    const who = c.name || (c.volunteer_id || '').slice(0, 8);
    add(c.accepted_at, 'callout', { who, state: 'accepted' });
    if (['declined', 'no_answer'].includes(c.state)) add(c.answered_at, 'callout', { who, state: c.state });
    add(c.arrived_at, 'callout', { who, state: 'arrived' });
  }
  for (const [n, r] of rounds) add(r.at, 'round', { n, count: r.count });
  const nameOf = new Map(callouts.map((c) => [String(c.volunteer_id), c.name]));
  for (const a of audit) {
    if (a.action === 'raise') continue;
    const detail = a.detail || {};
    add(a.at, 'audit', { action: a.action, actor: a.actor, detail, who: nameOf.get(String(detail.volunteer_id)) || detail.name || null });
  }
  const known = new Set(ev.map((e) => `${e.who}|${e.state}`));
  for (const s of seen) if (!known.has(`${s.who}|${s.state}`)) add(s.at, 'callout', { who: s.who, state: s.state });
  add(inc.staffed_at, 'status', { status: 'staffed' });
  return ev.sort((a, b) => new Date(b.at) - new Date(a.at));
}

/** Stats rows: [{key, rate, median_s, n}] for a grouping ("team_type" or "district"). */
export function statRows(stats, group) {
  const src = (stats && (stats[group] || stats[`by_${group}`])) || [];
  const rows = Array.isArray(src) ? src : Object.entries(src).map(([key, v]) => ({ key, ...v }));
  return rows.map((r) => ({
    key: r.key ?? r[group] ?? r.team_type ?? r.district,
    rate: num(r.acceptance_rate) ?? num(r.rate) ?? (r.called ? (r.accepted || 0) / r.called : null),
    median_s: num(r.median_time_to_accept_s) ?? num(r.median_s) ?? num(r.median_accept_s),
    n: num(r.callouts) ?? num(r.called) ?? num(r.n) ?? 0,
  }));
}
