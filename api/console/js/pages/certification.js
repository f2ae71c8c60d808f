// Certification queue (county offices): pending products of the office's county with the price
// check against the category median; certify or reject with a note; revoke with a reason.
import { api } from '../api.js';
import { h, page, money, field, errorBox, announce, cursorPaged, localDay } from '../dom.js';
import { t } from '../i18n.js';

const PAGE = 10;
const cards = (list, card) => (list.length ? h('ul', { class: 'cards' }, list.map(card)) : h('p', {}, t('empty')));
const pageOf = (status) => (cursor) => api(`/products?status=${status}&limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);

export async function render() {
  const main = page('page.certification', h('p', { class: 'status', role: 'status' }, t('loading')));
  const [pending, certified] = await Promise.all([
    cursorPaged(pageOf('pending_review'), (items) => cards(items, pendingCard)),
    cursorPaged(pageOf('certified'), (items) => cards(items, certifiedCard)),
  ]);
  main.replaceChildren(main.querySelector('h1'),
    h('section', { 'aria-labelledby': 'queue-h' }, h('h2', { id: 'queue-h' }, t('cert.queue')), pending),
    h('section', { 'aria-labelledby': 'certified-h' }, h('h2', { id: 'certified-h' }, t('cert.certified')), certified));
}

function priceCheck(p) {
  const c = p.price_check;
  if (!c) return null;
  const text = c.median_price === null
    ? t('cert.no_median')
    : `${t('cert.median')} ${money(c.median_price)} · ${t('cert.ratio')} ${c.ratio} · ${t('cert.compared')} ${c.compared_with}`;
  return h('p', { class: c.price_flag ? 'bad' : 'ok', 'data-price-flag': String(c.price_flag) },
    c.price_flag ? `⚠ ${t('cert.flag')} ` : '', text);
}

function facts(p) {
  return h('dl', { class: 'facts' },
    h('dt', {}, t('cert.category')), h('dd', {}, t(`cat.${p.category}`)),
    h('dt', {}, t('cert.price')), h('dd', {}, `${money(p.price)} / ${p.unit}`),
    h('dt', {}, t('cert.origin')), h('dd', {}, p.origin_region_code),
    h('dt', {}, t('cert.households')), h('dd', {}, String(p.poor_households_linked ?? '—')));
}

function nextYear() {
  const d = new Date();
  d.setFullYear(d.getFullYear() + 1);
  return localDay(d);
}

function pendingCard(p) {
  const until = h('input', { type: 'date', name: 'valid_until', value: nextYear(), required: true });
  const note = h('textarea', { name: 'note', rows: 2 });
  const msg = h('div', {});
  const act = async (path, body, doneKey) => {
    msg.replaceChildren();
    try {
      // The version reviewed: a product edited since is refused (412), never decided unseen.
      await api(`/products/${p.id}/${path}`, { method: 'POST', body, headers: { 'If-Match': `"${p.version}"` } });
      announce(t(doneKey));
      li.replaceChildren(h('p', { class: 'ok', role: 'status' }, `${p.name}: ${t(doneKey)}`));
    } catch (e) { msg.replaceChildren(errorBox(e)); }
  };
  const li = h('li', { class: 'card', 'data-product': p.id },
    h('h3', {}, p.name), facts(p), priceCheck(p),
    field('cert.valid_until', until), field('cert.note', note),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary', onclick: () => act('certify',
        { valid_until: until.value, ...(note.value.trim() ? { note: note.value.trim() } : {}) }, 'cert.certified_ok') },
      t('cert.certify')),
      h('button', { type: 'button', class: 'danger', onclick: () => {
        if (!note.value.trim()) { msg.replaceChildren(h('p', { class: 'error', role: 'alert' }, t('cert.note_needed'))); note.focus(); return; }
        act('reject', { reason: note.value.trim() }, 'cert.rejected_ok');
      } }, t('cert.reject'))),
    msg);
  return li;
}

function certifiedCard(p) {
  const reason = h('input', { name: 'reason', size: 30 });
  const msg = h('div', {});
  const li = h('li', { class: 'card', 'data-product': p.id },
    h('h3', {}, p.name), facts(p),
    h('p', {}, `${t('cert.number')}: ${p.certificate_number || '—'} · ${t('cert.valid_until')}: ${p.valid_until || '—'}`),
    field('cert.revoke_reason', reason),
    h('button', { type: 'button', class: 'danger', onclick: async () => {
      if (!reason.value.trim()) { msg.replaceChildren(h('p', { class: 'error', role: 'alert' }, t('cert.reason_needed'))); reason.focus(); return; }
      try {
        await api(`/products/${p.id}/revoke`, { method: 'POST', body: { reason: reason.value.trim() }, headers: { 'If-Match': `"${p.version}"` } });
        li.replaceChildren(h('p', { class: 'ok', role: 'status' }, `${p.name}: ${t('cert.revoked_ok')}`));
        announce(t('cert.revoked_ok'));
      } catch (e) { msg.replaceChildren(errorBox(e)); }
    } }, t('cert.revoke')),
    msg);
  return li;
}
