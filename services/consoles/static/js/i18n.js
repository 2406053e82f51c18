// Two languages, Simplified Chinese first. The strings are data, not code: ../strings.json
// (shell, desk, dashboard) and one ../strings_<page>.json per other screen, each string as
// "key": [Chinese, English] so a translation sits beside its source. Pages carry only keys
// (data-i18n="key"), and switching language re-renders without a reload.
import shell from '../strings.json' with { type: 'json' };

const KEY = 'baiying.lang';
const listeners = new Set();

const zh = {};
const en = {};
addPairs(shell);

const tables = { zh, en };

/** More strings as { key: [zh, en] } (a page's own table, ../strings_<page>.json). */
export function addPairs(pairs) {
  for (const [key, [zhText, enText]] of Object.entries(pairs)) {
    zh[key] = zhText;
    en[key] = enText;
  }
}

export function lang() {
  const stored = localStorage.getItem(KEY);
  return stored === 'en' ? 'en' : 'zh';
}

export function setLang(value) {
  localStorage.setItem(KEY, value);
  document.documentElement.lang = value === 'en' ? 'en' : 'zh-CN';
  applyI18n(document);
  for (const fn of listeners) fn(value);
}

export function onLangChange(fn) { listeners.add(fn); }

/** Translate `key`, filling {name} placeholders from `vars`; unknown keys show as themselves. */
export function t(key, vars = {}) {
  const text = tables[lang()][key] ?? zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

/** Fill every [data-i18n] (text), [data-i18n-ph] (placeholder) and [data-i18n-title] below root. */
export function applyI18n(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-ph]')) el.placeholder = t(el.dataset.i18nPh);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
}
