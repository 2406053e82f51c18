// Search-as-you-type over the standard addresses (GET /v1/gazetteer/search, scoped by the
// server to the desk's districts). Arrow keys move, Enter or a click picks; a pick hands the
// address (location, district, area) to `onPick`. A slow answer never overwrites a newer one.
import { h } from './dom.js';
import { t } from './i18n.js';
import { api } from './api.js';
import { debounce } from './stream.js';

export class Suggest {
  constructor(form, { onPick }) {
    this.input = form.elements.address;
    this.list = form.querySelector('#suggest');
    this.onPick = onPick;
    this.items = [];
    this.active = -1;
    this.asked = 0; // sequence number of the latest question
    const ask = debounce(() => this.ask(), 180);
    this.input.addEventListener('input', ask);
    this.input.addEventListener('keydown', (e) => this.key(e));
    this.input.addEventListener('blur', () => setTimeout(() => this.close(), 150));
  }

  async ask() {
    const q = this.input.value.trim();
    const n = ++this.asked;
    if (!q) { this.close(); return; }
    let found = [];
    try { found = await api.gazetteer(q); } catch { found = []; } // typing on without a gazetteer is fine
    if (n !== this.asked) return;
    this.items = found;
    this.active = found.length ? 0 : -1;
    this.render(q);
  }

  render(q) {
    const rows = this.items.map((a, i) => h('li', {
      role: 'option', class: i === this.active ? 'active' : '', 'aria-selected': String(i === this.active), 'data-id': a.id,
      onmousedown: (e) => { e.preventDefault(); this.pick(i); },
    }, h('b', {}, a.address), h('span', { class: 'muted small' }, [a.district_name, a.community, a.police_room].filter(Boolean).join(' · '))));
    this.list.replaceChildren(...(rows.length ? rows : [h('li', { class: 'none muted small' }, t('gaz_none'))]));
    this.list.hidden = !q;
    this.input.setAttribute('aria-expanded', String(!this.list.hidden));
  }

  key(e) {
    if (this.list.hidden || !this.items.length) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const step = e.key === 'ArrowDown' ? 1 : -1;
      this.active = (this.active + step + this.items.length) % this.items.length;
      this.render(this.input.value.trim());
    } else if (e.key === 'Enter') {
      e.preventDefault(); // Enter picks the address; it must not raise the incident
      this.pick(Math.max(0, this.active));
    } else if (e.key === 'Escape') this.close();
  }

  pick(i) {
    const a = this.items[i];
    if (!a) return;
    this.close();
    this.onPick(a);
  }

  close() {
    this.asked += 1;
    this.list.hidden = true;
    this.input.setAttribute('aria-expanded', 'false');
  }
}
