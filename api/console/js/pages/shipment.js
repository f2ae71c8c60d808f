// What a supplier order carries beyond its lines' amounts, drawn exactly as the API sends it:
// the weighed side of a line sold `pieces_by_weight` (`line.weight`, docs/variable-weight.md),
// the order's weighed totals (`order.weighed`), and the lots each line shipped with their
// 合格证 (`order.shipped_lots`), each lot linking to its trace.
import { h, money, shortId } from '../dom.js';
import { t } from '../i18n.js';

/** A signed amount the API sends as a decimal string: "+¥1.20" / "-¥0.30". */
export function signed(v) {
  if (v === null || v === undefined) return '—';
  const s = String(v);
  return s.startsWith('-') ? `-${money(s.slice(1))}` : `+${money(s)}`;
}

/** The weighed side of a line: nominal weight x pieces, tolerance, estimate, and the actuals. */
export function lineWeight(line) {
  const w = line.weight;
  if (!w) return null;
  const pieces = line.accepted_quantity ?? line.quantity;
  const parts = [
    h('span', { 'data-nominal': w.nominal_weight_kg },
      `${t('w.nominal')} ${w.nominal_weight_kg} kg × ${pieces} ${t('w.pieces')} ± ${w.weight_tolerance}%`),
    h('span', { 'data-estimate': w.estimated_amount },
      ` · ${t('w.estimate')} ${w.estimated_weight_kg} kg = ${money(w.estimated_amount)}`),
  ];
  if (w.actual_weight_kg !== null && w.actual_weight_kg !== undefined) {
    parts.push(h('span', { 'data-actual': w.actual_amount },
      ` · ${t('w.actual')} ${w.actual_weight_kg} kg = ${money(w.actual_amount)}`),
    h('span', { 'data-difference': w.difference }, ` · ${t('w.difference')} ${signed(w.difference)}`),
    w.deviation_accepted ? h('span', { class: 'bad' }, ` · ${t('w.deviation_accepted')}`) : null);
  }
  return h('p', { class: 'weight', 'data-weight': line.id }, parts);
}

/** The order's weighed totals, when it has weighed lines. */
export function weighedTotal(order) {
  const w = order.weighed;
  if (!w) return null;
  return h('p', { class: 'weighed', 'data-weighed-estimate': w.estimated_amount, 'data-weighed-actual': w.actual_amount ?? '' },
    `${t('w.total_estimate')} ${money(w.estimated_amount)}`,
    w.actual_amount !== null && w.actual_amount !== undefined
      ? ` · ${t('w.total_actual')} ${money(w.actual_amount)} · ${t('w.difference')} ${signed(w.difference)}` : '');
}

/** The lots a line shipped (`order.shipped_lots`, empty or absent until shipped). */
export function shippedLots(order, line) {
  const lots = (order.shipped_lots || []).filter((l) => l.line_id === line.id);
  if (!lots.length) return null;
  return h('ul', { class: 'lots' }, lots.map((lot) => {
    const c = lot.compliance_certificate;
    const link = h('a', { href: `#/trace/${lot.lot_id}` }, `${t('deliv.lot')} ${shortId(lot.lot_id)}`);
    const qty = ` × ${lot.quantity}${lot.accepted_quantity !== null && lot.accepted_quantity !== undefined
      ? ` (${t('deliv.lot_accepted')} ${lot.accepted_quantity})` : ''} · ${t('deliv.best_before')} ${lot.best_before}`;
    if (!c) {
      return h('li', { 'data-lot': lot.lot_id, class: lot.uncertified_batch ? 'bad' : null }, link, qty,
        lot.uncertified_batch ? ` · ${t('deliv.no_cert')}` : '');
    }
    return h('li', { 'data-lot': lot.lot_id, 'data-certificate': c.number }, link, qty, ` · ${t('deliv.cert')} `,
      h('strong', {}, c.number), ` · ${t('deliv.issuer')} ${c.issuer} · ${t('deliv.issued_on')} ${c.issued_on}`,
      c.trace_code ? ` · ${t('deliv.trace')} ${c.trace_code}` : '',
      c.url ? [' · ', h('a', { href: c.url, rel: 'noopener noreferrer', target: '_blank' }, t('deliv.cert_online'))] : '');
  }));
}
