// Ledger: the caller's entries with filters, totals that equal the reports, and each entry's
// inclusion in a signed checkpoint checked in this browser (see verify.js).
import { api } from '../api.js';
import { h, page, table, money, field, select, errorBox, shortId, cursorPaged, when } from '../dom.js';
import { t } from '../i18n.js';
import { verifyEntry, signedCheckpoint, fenOf } from '../verify.js';

export const CATEGORIES = ['grain', 'vegetables', 'fruit', 'meat', 'eggs', 'dairy', 'aquatic', 'edible_fungi', 'tea',
  'oils', 'herbs', 'processed_food'];
const PAGE = 20;

/**
 * The API query of the filters: a month (YYYY-MM) or a year selects the entries' stored budget
 * year and month, as the reports group them, so the page's totals compare with the reports'.
 */
export function ledgerQuery(f) {
  const q = new URLSearchParams();
  for (const k of ['buyer', 'supplier', 'county', 'category']) if (f[k]) q.set(k, f[k]);
  const year = Number(f.year);
  if (f.month) {
    const [y, m] = f.month.split('-').map(Number);
    q.set('year', String(y));
    q.set('month', String(m));
  } else if (year) {
    q.set('year', String(year));
  }
  return q;
}

const ORG_CAP = 1000;

/**
 * The organisations of the buyer and supplier selects (evaluators, admin): every page up to
 * ORG_CAP (`capped` when more exist), and the filtered ones fetched by id when not among them,
 * so that a link's filter always shows as chosen.
 */
async function orgOptions(me, f) {
  if (!['evaluator', 'admin'].includes(me.user.role)) return null;
  const list = [];
  let cursor = null;
  try {
    do {
      const p = await api(`/organizations?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      list.push(...p.items);
      cursor = p.next_cursor;
    } while (cursor && list.length < ORG_CAP);
  } catch { return null; }
  for (const id of new Set([f.buyer, f.supplier].filter(Boolean))) {
    if (!list.some((o) => o.id === id)) list.push(await api(`/organizations/${encodeURIComponent(id)}`).catch(() => ({ id, name: id })));
  }
  return { list, capped: !!cursor };
}

export async function render(_parts, params, me) {
  const f = Object.fromEntries(['buyer', 'supplier', 'county', 'category', 'month', 'year'].map((k) => [k, params.get(k) || '']));
  // The browser's year: the budget year where the console is used (China time).
  if (!f.year && !f.month) f.year = String(new Date().getFullYear());
  if (f.month) f.year = f.month.slice(0, 4);
  const main = page('page.ledger', h('p', { class: 'status', role: 'status' }, t('loading')));
  const orgs = await orgOptions(me, f);
  const form = filterForm(f, orgs, me);
  const summaryBox = h('section', { 'aria-labelledby': 'totals-h' }, h('h2', { id: 'totals-h' }, t('ledger.totals')),
    h('p', { class: 'status' }, t('loading')));
  const cpBox = h('p', { class: 'checkpoint', 'aria-live': 'polite' }, t('ledger.checking_checkpoint'));
  const listBox = h('section', { 'aria-labelledby': 'entries-h' }, h('h2', { id: 'entries-h' }, t('ledger.entries')));
  const capped = orgs && orgs.capped
    ? h('p', { class: 'note', 'data-orgs-capped': ORG_CAP }, t('ledger.orgs_capped').replace('{n}', ORG_CAP)) : null;
  main.replaceChildren(...[main.querySelector('h1'), form, capped, cpBox, summaryBox, listBox].filter(Boolean));
  const names = new Map((orgs ? orgs.list : []).map((o) => [o.id, o.name]));
  signedCheckpoint(true).then(
    (cp) => cpBox.replaceChildren(mark('verified'), ` ${t('ledger.checkpoint_ok')} ${cp.size}`),
    (e) => cpBox.replaceChildren(mark('failed'), ` ${t('ledger.checkpoint_bad')}: ${e.message}`));
  const query = ledgerQuery(f);
  totals(summaryBox, query, f).catch((e) => summaryBox.append(errorBox(e)));
  await entries(listBox, query, names);
}

function filterForm(f, orgs, me) {
  const orgSelect = (name, kinds) => {
    if (!orgs) return h('input', { name, value: f[name], placeholder: t('ledger.org_id'), size: 36 });
    const list = orgs.list.filter((o) => kinds(o.kind) || o.id === f[name]);
    return select(name, [['', t('all')], ...list.map((o) => [o.id, o.name])], f[name]);
  };
  const buyerKinds = (k) => !['platform', 'county_office', 'evaluation_office', 'finance_office', 'cooperative', 'enterprise',
    'family_farm'].includes(k);
  const supplierKinds = (k) => ['cooperative', 'enterprise', 'family_farm'].includes(k);
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': t('ledger.filters') },
    me.user.role === 'buyer' && !orgs ? null : field('ledger.buyer', orgSelect('buyer', buyerKinds)),
    me.user.role === 'supplier' ? null : field('ledger.supplier', orgSelect('supplier', supplierKinds)),
    field('ledger.county', h('input', { name: 'county', value: f.county, inputmode: 'numeric', pattern: '[0-9]{6}',
      size: 8 })),
    field('ledger.category', select('category', [['', t('all')], ...CATEGORIES.map((c) => [c, t(`cat.${c}`)])], f.category)),
    field('progress.year', h('input', { name: 'year', type: 'number', min: 2000, max: 2100, value: f.year })),
    field('ledger.month', h('input', { name: 'month', type: 'month', value: f.month })),
    h('button', { type: 'submit', class: 'primary' }, t('apply')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) q.set(k, v);
    location.hash = `#/ledger?${q}`;
  });
  return form;
}

const SUM_CAP = 20000;

/** A sum of fen as yuan with two decimals, exactly. */
function yuan(fen) {
  const a = fen < 0n ? -fen : fen;
  return `${fen < 0n ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
}

/**
 * Sums the filtered entries (every page, up to SUM_CAP) and sets them beside the report's
 * figure. Past the cap the sum is partial: not compared (neutral), unless the entries already
 * outnumber the report's; where the report alone says more than SUM_CAP, nothing is summed.
 */
async function totals(box, query, f) {
  const report = await reportFigure(f);
  let sum = 0n, count = 0, cursor = null;
  const tooMany = !!report && report.entry_count > SUM_CAP;
  if (!tooMany) {
    do {
      const q = new URLSearchParams(query);
      q.set('limit', '200');
      if (cursor) q.set('cursor', cursor);
      const p = await api(`/ledger?${q}`);
      for (const e of p.items) { sum += BigInt(fenOf(e.amount)); count += 1; }
      cursor = p.next_cursor;
    } while (cursor && count < SUM_CAP);
  }
  const partial = tooMany || !!cursor;
  const rows = [];
  if (!tooMany) rows.push([partial ? t('ledger.sum_partial').replace('{n}', count) : t('ledger.sum'), money(yuan(sum)), String(count)]);
  if (report) rows.push([t('ledger.report'), money(report.total), String(report.entry_count)]);
  let equal = null;
  if (report && !partial) equal = fenOf(report.total) === sum.toString() && report.entry_count === count;
  else if (report && count > report.entry_count) equal = false; // more entries listed than the report counts
  let verdict = null;
  if (equal !== null) {
    verdict = h('p', { class: equal ? 'ok' : 'bad', 'data-totals-equal': String(equal) },
      mark(equal ? 'verified' : 'failed'), ' ', t(equal ? 'ledger.totals_equal' : 'ledger.totals_differ'));
  } else if (partial) {
    verdict = h('p', { class: 'note', 'data-totals-equal': 'unknown' },
      t('ledger.not_compared').replace('{n}', SUM_CAP), report ? ` ${t('ledger.report_is_total')}` : '');
  }
  const facts = { class: 'facts', 'data-ledger-count': count, 'data-ledger-partial': String(partial) };
  if (!partial) facts['data-ledger-total'] = yuan(sum);
  box.replaceChildren(...[box.querySelector('h2'), h('dl', facts,
    rows.flatMap(([k, v, n]) => [h('dt', {}, k), h('dd', {}, `${v} · ${n} ${t('ledger.entries_n')}`)])), verdict]
    .filter(Boolean));
}

/** The summary report's row for the same slice, where one grouping says it (else null). */
async function reportFigure(f) {
  const set = ['buyer', 'supplier', 'county', 'category'].filter((k) => f[k]);
  if (set.length > 1 || f.category || f.buyer) return null;
  const year = Number(f.year);
  if (set.length === 1 && f.month) return null;
  const group = f.month ? 'month' : set[0] || 'month';
  const r = await api(`/reports/summary?year=${year}&group_by=${group}`);
  if (!f.month && !set.length) return r.totals;
  const key = f.month ? String(Number(f.month.slice(5))) : f[set[0]];
  return r.rows.find((x) => x.key === key) || { total: '0.00', entry_count: 0 };
}

export function mark(state) {
  const sym = { verified: '✓', pending: '…', failed: '✗' }[state];
  return h('span', { class: `mark ${state}`, 'data-verify': state }, h('span', { 'aria-hidden': 'true' }, sym),
    ` ${t(`verify.${state}`)}`);
}

async function entries(box, query, names) {
  const pageAt = (cursor) => {
    const q = new URLSearchParams(query);
    q.set('limit', String(PAGE));
    if (cursor) q.set('cursor', cursor);
    return api(`/ledger?${q}`);
  };
  box.append(await cursorPaged(pageAt, (items) => entryTable(items, names)));
}

/** The entries, each with its mark, checked one by one as the table is shown. */
function entryTable(items, names) {
  const name = (id) => names.get(id) || shortId(id);
  const cells = new Map();
  const tbl = table('ledger.entries', [
    ['col.seq', (e) => (e.seq ? String(e.seq) : '—')],
    ['col.date', (e) => when(e.occurred_at, { day: true })],
    ['ledger.buyer', (e) => name(e.buyer_org_id)],
    ['ledger.supplier', (e) => name(e.supplier_org_id)],
    ['ledger.county', (e) => e.origin_county_code],
    ['ledger.category', (e) => t(`cat.${e.category}`)],
    ['col.kind', (e) => t(`kind.${e.kind}`)],
    ['col.amount', (e) => money(e.amount)],
    ['ledger.weight', (e) => (e.weight_kg_milli === null || e.weight_kg_milli === undefined ? '—' : `${(e.weight_kg_milli / 1000).toFixed(3)} kg`)],
    ['ledger.lot', (e) => (e.lot_id
      ? h('a', { href: `#/trace/${e.lot_id}`, 'data-certificate': e.compliance_certificate_number || '' }, e.compliance_certificate_number || shortId(e.lot_id))
      : '—')],
    ['col.verified', (e) => { const c = h('span', {}, mark('pending')); cells.set(e.id, c); return c; }],
  ], items, { rowAttrs: (e) => ({ dataset: { entry: e.id, seq: e.seq || '' } }) });
  for (const e of items) {
    verifyEntry(e).then((r) => {
      const c = cells.get(e.id);
      c.replaceChildren(mark(r.state));
      c.title = r.detail;
    });
  }
  return tbl;
}
