// Tiny DOM and formatting helpers. Elements are built with h(), never innerHTML, so text from
// the API (titles, addresses, error details) can never inject markup.
import { t, lang } from './i18n.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function h(tag, attrs, ...children) { return build(document.createElement(tag), attrs, children); }
export function s(tag, attrs, ...children) { return build(document.createElementNS(SVG_NS, tag), attrs, children); }

export function $(sel, root = document) { return root.querySelector(sel); }

/** A human duration: "42 秒", "3 分 05 秒" / "42 s", "3 min 05 s". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  const sec = Math.max(0, Math.round(seconds));
  const sp = lang() === 'en' ? ' ' : ' ';
  if (sec < 60) return `${sec}${sp}${t('seconds')}`;
  const m = Math.floor(sec / 60), r = String(sec % 60).padStart(2, '0');
  if (m < 60) return `${m}${sp}${t('minutes')} ${r}${sp}${t('seconds')}`;
  return `${Math.floor(m / 60)}${sp}${t('hours')} ${m % 60}${sp}${t('minutes')}`;
}

export function distance(m) {
  if (m === null || m === undefined) return '—';
  return m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(m < 10000 ? 1 : 0)} km`;
}

export function clock(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : d.toLocaleTimeString(lang() === 'en' ? 'en-GB' : 'zh-CN', { hour12: false });
}

export function dateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  const loc = lang() === 'en' ? 'en-GB' : 'zh-CN';
  return d.toLocaleString(loc, { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
}

/** "3 分钟前" / "3 minutes ago" in the page's language, for times within a day; else dateTime. */
export function ago(iso, now = Date.now()) {
  if (!iso) return '—';
  const s = Math.round((new Date(iso).getTime() - now) / 1000);
  if (Number.isNaN(s)) return '—';
  const fmt = new Intl.RelativeTimeFormat(lang() === 'en' ? 'en-GB' : 'zh-CN', { numeric: 'auto' });
  const a = Math.abs(s);
  if (a < 10) return fmt.format(0, 'second');
  if (a < 60) return fmt.format(s, 'second');
  if (a < 3600) return fmt.format(Math.round(s / 60), 'minute');
  if (a < 86400) return fmt.format(Math.round(s / 3600), 'hour');
  return dateTime(iso);
}

/** Show a message in the page's toast area; errors stay until clicked. */
export function toast(message, kind = 'info') {
  const box = $('#toasts') || document.body.appendChild(h('div', { id: 'toasts', role: 'status' }));
  const item = h('div', { class: `toast toast-${kind}`, onclick: () => item.remove() }, message);
  box.append(item);
  if (kind !== 'error') setTimeout(() => item.remove(), 4000);
}
