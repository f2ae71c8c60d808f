// Deliveries (buyers): supplier orders awaiting acceptance with the lots shipped and their
// 合格证 (`shipped_lots`), the weighed side of lines sold by weight (`weight`, `weighed`),
// acceptance of each line (with the actual weight of a weighed line, and the acceptance of a
// weight outside the tolerance) and an invoice number, payments, and the supplier's rating.
// A parent unit also sees its children's orders: those are drawn read-only, naming the unit,
// since only the order's own buyer may accept, pay or rate (the API answers 403 otherwise).
import { api } from '../api.js';
import { h, page, money, field, errorBox, announce, shortId, cursorPaged, localDay } from '../dom.js';
import { t } from '../i18n.js';
import { lineWeight, weighedTotal, shippedLots } from './shipment.js';

const names = new Map();
async function productName(id) {
  if (!names.has(id)) names.set(id, api(`/products/${id}`).then((p) => p.name, () => shortId(id)));
  return names.get(id);
}

const orgNames = new Map();
function orgName(id) {
  if (!orgNames.has(id)) orgNames.set(id, api(`/organizations/${id}`).then((o) => o.name, () => shortId(id)));
  return orgNames.get(id);
}

const PAGE = 10;

export async function render(_parts, _params, me) {
  const main = page('page.deliveries', h('p', { class: 'status', role: 'status' }, t('loading')));
  const own = (card) => (o) => (o.buyer_org_id === me.user.org_id ? card(o) : othersCard(o));
  const list = (status, card) => cursorPaged(
    (cursor) => api(`/supplier-orders?status=${status}&limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
    async (items) => (items.length ? h('ul', { class: 'cards' }, await Promise.all(items.map(own(card)))) : h('p', {}, t('empty'))));
  const [awaiting, shipped, accepted] = await Promise.all([
    list('delivered', acceptCard), list('shipped', (o) => orderCard(o, [])), list('accepted', paymentCard)]);
  const section = (id, key, box) => h('section', { 'aria-labelledby': id }, h('h2', { id }, t(key)), box);
  main.replaceChildren(main.querySelector('h1'), section('awaiting-h', 'deliv.awaiting', awaiting),
    section('shipped-h', 'deliv.shipped', shipped), section('accepted-h', 'deliv.accepted', accepted));
}

async function orderCard(o, extra) {
  const lines = await Promise.all(o.lines.map(async (l) => {
    const price = l.weight ? `${money(l.unit_price)}/kg` : money(l.unit_price);
    const count = l.weight ? `${l.quantity} ${t('w.pieces')}` : l.quantity;
    return h('li', { 'data-line': l.id }, `${await productName(l.product_id)} · ${count} × ${price} = ${money(l.amount)}`,
      l.accepted_quantity !== null && l.accepted_quantity !== undefined ? ` · ${t('deliv.accepted_qty')} ${l.accepted_quantity}` : '',
      lineWeight(l), shippedLots(o, l));
  }));
  return h('li', { class: 'card', 'data-order': o.id },
    h('h3', {}, `${t('deliv.order')} ${shortId(o.id)} · ${t(`so.${o.status}`)} · ${money(o.total)}`),
    h('ul', { class: 'lines' }, lines), weighedTotal(o), ...extra);
}

/** A child unit's order: what it holds and its payment, no form (only its buyer may act). */
async function othersCard(o) {
  const p = o.payment;
  return orderCard(o, [
    h('p', { class: 'note', 'data-owner': o.buyer_org_id },
      `${t('deliv.of_unit')}${await orgName(o.buyer_org_id)}${t('deliv.unit_acts')}`),
    p && o.status === 'accepted'
      ? h('p', {}, `${t('deliv.invoiced')} ${money(p.invoiced)} · ${t('deliv.paid')} ${money(p.paid)} · ${t('deliv.outstanding')} ${money(p.outstanding)}`)
      : null]);
}

async function acceptCard(o) {
  const qty = new Map();
  const weights = new Map();
  const inputs = await Promise.all(o.lines.map(async (l) => {
    const q = h('input', { type: 'text', inputmode: 'decimal', name: `qty-${l.id}`, value: l.quantity, size: 8, required: true });
    qty.set(l.id, q);
    const parts = [field('deliv.accept_qty', q)];
    parts[0].querySelector('label').append(` (${await productName(l.product_id)})`);
    if (l.weight) {
      // Not `required`: no weight is sent for a line of which no piece is accepted.
      const w = h('input', { type: 'text', inputmode: 'decimal', name: `weight-${l.id}`, size: 8 });
      weights.set(l.id, w);
      parts.push(field('deliv.actual_weight', w));
    }
    return parts;
  }));
  const invoice = h('input', { name: 'invoice_number', required: true, size: 20 });
  const note = h('input', { name: 'note', size: 30 });
  const msg = h('div', {});
  const deviation = weights.size ? h('input', { type: 'checkbox', name: 'accept_weight_deviation' }) : null;
  const form = h('form', { class: 'accept' }, inputs.flat(),
    deviation ? h('p', { class: 'check' }, h('label', {}, deviation, ` ${t('deliv.accept_deviation')}`)) : null,
    field('deliv.invoice', invoice), field('deliv.note', note),
    h('button', { type: 'submit', class: 'primary' }, t('deliv.accept')), msg);
  let card;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {
      lines: o.lines.map((l) => ({ line_id: l.id, accepted_quantity: qty.get(l.id).value.trim(),
        ...(weights.get(l.id)?.value.trim() ? { actual_weight: weights.get(l.id).value.trim() } : {}) })),
      invoice_number: invoice.value.trim(),
      ...(deviation?.checked ? { accept_weight_deviation: true } : {}),
      ...(note.value.trim() ? { note: note.value.trim() } : {}),
    };
    try {
      const done = await api(`/supplier-orders/${o.id}/accept`, { method: 'POST', body });
      announce(t('deliv.accepted_ok'));
      card.replaceWith(await paymentCard(done));
    } catch (err) { msg.replaceChildren(errorBox(err)); }
  });
  card = await orderCard(o, [form]);
  return card;
}

async function paymentCard(o) {
  const p = o.payment || {};
  const amount = h('input', { name: 'amount', inputmode: 'decimal', size: 10, value: p.outstanding && p.outstanding !== '0.00' ? p.outstanding : '' });
  const paidOn = h('input', { name: 'paid_on', type: 'date', value: localDay() });
  const ref = h('input', { name: 'reference', size: 20 });
  const msg = h('div', {});
  const pay = h('form', { class: 'pay' }, h('h4', {}, t('deliv.payment')),
    h('p', {}, `${t('deliv.invoiced')} ${money(p.invoiced)} · ${t('deliv.paid')} ${money(p.paid)} · ${t('deliv.outstanding')} ${money(p.outstanding)}`),
    field('deliv.amount', amount), field('deliv.paid_on', paidOn), field('deliv.reference', ref),
    h('button', { type: 'submit', class: 'secondary' }, t('deliv.record_payment')), msg);
  pay.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api(`/supplier-orders/${o.id}/payments`, { method: 'POST',
        body: { amount: amount.value.trim(), paid_on: paidOn.value, reference: ref.value.trim() } });
      announce(t('deliv.paid_ok'));
      card.replaceWith(await paymentCard(await api(`/supplier-orders/${o.id}`)));
    } catch (err) { msg.replaceChildren(errorBox(err)); }
  });
  const score = h('select', { name: 'score' }, [5, 4, 3, 2, 1].map((n) => h('option', { value: n }, `${n} ★`)));
  const comment = h('input', { name: 'comment', size: 30 });
  const rmsg = h('div', {});
  const rate = h('form', { class: 'rate' }, h('h4', {}, t('deliv.rating')), field('deliv.score', score),
    field('deliv.comment', comment), h('button', { type: 'submit', class: 'secondary' }, t('deliv.rate')), rmsg);
  rate.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api(`/supplier-orders/${o.id}/rating`, { method: 'POST', body: { score: Number(score.value), comment: comment.value.trim() } });
      rate.replaceChildren(h('p', { class: 'ok', role: 'status' }, t('deliv.rated_ok')));
    } catch (err) { rmsg.replaceChildren(errorBox(err)); }
  });
  const rated = await api(`/supplier-orders/${o.id}/rating`).catch(() => null);
  if (rated) rate.replaceChildren(h('h4', {}, t('deliv.rating')), h('p', { class: 'ok' }, `${rated.score} ★ ${rated.comment || ''}`));
  const settled = Number(p.paid) > 0 && Number(p.outstanding) === 0;
  const card = await orderCard(o, [h('p', {}, h('a', { href: `#/ledger?supplier=${o.supplier_org_id}` }, t('deliv.ledger_link'))),
    settled ? h('p', { class: 'ok' }, `${t('deliv.paid')} ${money(p.paid)} · ${t('deliv.settled')}`) : pay, rate]);
  return card;
}
