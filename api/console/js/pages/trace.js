// One lot from farm to canteen (`GET /lots/{id}/trace`): its origin, its 合格证 and the
// supplier orders it went to with their acceptance, and the EPCIS 2.0 document to download.
// Reached from a shipped lot's link (#/trace/{lot id}); the API decides who may see what (a
// buyer sees the shipments it or a child bought and those its ledger is credited with;
// anyone else without sight of the lot gets 404).
import { api, download } from '../api.js';
import { h, page, errorBox, shortId, when } from '../dom.js';
import { t } from '../i18n.js';

const row = (key, ...value) => h('tr', {}, h('th', { scope: 'row' }, t(key)), h('td', {}, ...value));

export async function render(parts) {
  const id = parts[0] || '';
  const main = page('page.trace', h('p', { class: 'status', role: 'status' }, t('loading')));
  let tr;
  try {
    tr = await api(`/lots/${encodeURIComponent(id)}/trace`);
  } catch (err) {
    main.replaceChildren(main.querySelector('h1'), errorBox(err));
    return;
  }
  const c = tr.compliance_certificate;
  const o = tr.origin;
  const cert = c
    ? [h('strong', { 'data-certificate': c.number }, c.number), ` · ${t('deliv.issuer')} ${c.issuer} · ${t('deliv.issued_on')} ${c.issued_on}`,
      c.trace_code ? ` · ${t('deliv.trace')} ${c.trace_code}` : '']
    : [h('span', { class: tr.uncertified_batch ? 'bad' : null }, tr.uncertified_batch ? t('trace.uncertified') : t('trace.no_cert'))];
  const facts = h('table', { class: 'compact', 'data-lot': tr.lot_id },
    h('tbody', {},
      row('trace.lot', tr.lot_id),
      row('trace.product', `${o.product_name} · ${t(`cat.${o.category}`)}`,
        o.product_certificate_number ? ` · ${t('trace.product_cert')} ${o.product_certificate_number}` : ''),
      row('trace.origin', o.origin_region_code),
      row('trace.quantity', `${tr.quantity} (${t('trace.remaining')} ${tr.remaining})`),
      row('trace.harvested_on', tr.harvested_on || '—'),
      row('trace.best_before', tr.best_before),
      row('trace.cert', ...cert)));
  const ships = tr.shipments.length
    ? h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-labelledby': 'ships-h' }, h('table', {},
      h('thead', {}, h('tr', {}, ['deliv.order', 'trace.buyer', 'trace.quantity', 'trace.shipped_at', 'trace.accepted_at']
        .map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, tr.shipments.map((s) => h('tr', { 'data-shipment': s.supplier_order_id },
        h('td', {}, `${shortId(s.supplier_order_id)} · ${t(`so.${s.status}`)}`), h('td', {}, shortId(s.buyer_org_id)),
        h('td', {}, s.accepted_quantity !== null && s.accepted_quantity !== undefined
          ? `${s.quantity} (${t('deliv.lot_accepted')} ${s.accepted_quantity})` : s.quantity),
        h('td', {}, when(s.shipped_at)), h('td', {}, when(s.accepted_at)))))))
    : h('p', {}, t('empty'));
  const epcis = h('button', { type: 'button', class: 'secondary' }, t('trace.epcis'));
  const msg = h('div', {});
  epcis.addEventListener('click', () => download(`/lots/${encodeURIComponent(tr.lot_id)}/trace?format=epcis`, `lot-${tr.lot_id}.jsonld`)
    .catch((err) => msg.replaceChildren(errorBox(err))));
  main.replaceChildren(main.querySelector('h1'), facts,
    h('section', { 'aria-labelledby': 'ships-h' }, h('h2', { id: 'ships-h' }, t('trace.shipments')), ships),
    h('p', {}, epcis), msg);
}
