// Fraud signals (evaluators and admin; supervisors for the buyers of their region): the flags
// the scan raised, filtered by kind and state, each with its evidence (ids and figures) as the
// API gives it, and, for an open flag, dismissal or confirmation with a note (evaluators and
// supervisors; the API refuses anyone else and anything outside a supervisor's region).
import { api, download } from '../api.js';
import { h, page, field, select, errorBox, announce, shortId, cursorPaged, money, when } from '../dom.js';
import { t } from '../i18n.js';

export const KINDS = ['price_outlier', 'round_trip', 'year_end_spike', 'related_parties', 'origin_mismatch', 'order_splitting'];
const STATES = ['open', 'dismissed', 'confirmed'];
const PAGE = 10;

export async function render(_parts, params, me) {
  const f = { kind: params.get('kind') || '', state: params.has('state') ? params.get('state') : 'open', year: params.get('year') || '' };
  const main = page('page.flags', h('p', { class: 'status', role: 'status' }, t('loading')));
  const q = new URLSearchParams();
  for (const k of ['kind', 'state', 'year']) if (f[k]) q.set(k, f[k]);
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': t('flags.filters') },
    field('flags.kind', select('kind', [['', t('all')], ...KINDS.map((k) => [k, t(`flag.${k}`)])], f.kind)),
    field('flags.state', select('state', [['', t('all')], ...STATES.map((s) => [s, t(`fstate.${s}`)])], f.state)),
    field('progress.year', h('input', { name: 'year', type: 'number', min: 2000, max: 2100, value: f.year })),
    h('button', { type: 'submit', class: 'primary' }, t('apply')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of new FormData(form)) next.set(k, v);
    location.hash = `#/flags?${next}`;
  });
  const msg = h('div', {});
  const exportBtn = (fmt) => h('button', { type: 'button', class: 'secondary', onclick: () => {
    const x = new URLSearchParams(q);
    x.set('format', fmt);
    download(`/flags?${x}`, `flags.${fmt}`).catch((err) => msg.replaceChildren(errorBox(err)));
  } }, t(`flags.${fmt}`));
  const mayDecide = ['evaluator', 'supervisor'].includes(me.user.role);
  const list = await cursorPaged(
    (cursor) => {
      const x = new URLSearchParams(q);
      x.set('limit', String(PAGE));
      if (cursor) x.set('cursor', cursor);
      return api(`/flags?${x}`);
    },
    (items) => (items.length ? h('ul', { class: 'cards' }, items.map((fl) => card(fl, mayDecide))) : h('p', {}, t('empty'))));
  main.replaceChildren(main.querySelector('h1'), form, h('p', { class: 'actions' }, exportBtn('csv'), ' ', exportBtn('xlsx')), msg,
    h('section', { 'aria-labelledby': 'flags-h' }, h('h2', { id: 'flags-h' }, t('flags.list')), list));
}

/** Evidence as the API gives it: each key with its value (lists joined, objects as JSON). */
function evidence(ev) {
  const show = (v) => {
    if (v === null || v === undefined) return '—';
    if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ');
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  };
  return h('dl', { class: 'facts evidence' }, Object.entries(ev || {}).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, show(v))]));
}

function card(fl, mayDecide) {
  const li = h('li', { class: 'card', 'data-flag': fl.id, 'data-kind': fl.kind, 'data-state': fl.state });
  const draw = (f) => {
    li.dataset.state = f.state;
    const decided = f.state !== 'open'
      ? h('p', { class: f.state === 'confirmed' ? 'bad' : 'ok' }, `${t(`fstate.${f.state}`)} · ${f.note || ''}`,
        f.decided_at ? ' · ' : '', f.decided_at ? when(f.decided_at) : '')
      : null;
    const reversals = f.reversals && f.reversals.length
      ? h('ul', { class: 'lines' }, f.reversals.map((r) => h('li', {}, `${t('flags.reversed')} ${shortId(r.entry_id)}: ${money(r.amount)}`)))
      : null;
    // (replaceChildren would write a null as the text "null".)
    li.replaceChildren(...[
      h('h3', {}, `${t(`flag.${f.kind}`)} · ${t(`fstate.${f.state}`)} · ${f.year}`),
      h('p', {}, `${t('flags.buyer')} ${shortId(f.buyer_org_id)} · ${t('flags.supplier')} ${shortId(f.supplier_org_id)} · `
        + `${t('flags.raised')} `, when(f.raised_at)),
      evidence(f.evidence), decided, reversals, f.state === 'open' && mayDecide ? decide(f, draw) : null].filter(Boolean));
  };
  draw(fl);
  return li;
}

function decide(f, draw) {
  const note = h('textarea', { name: 'note', rows: 2 });
  const msg = h('div', {});
  const act = async (what) => {
    if (!note.value.trim()) { msg.replaceChildren(h('p', { class: 'error', role: 'alert' }, t('flags.note_needed'))); note.focus(); return; }
    try {
      const done = await api(`/flags/${f.id}/${what}`, { method: 'POST', body: { note: note.value.trim() } });
      announce(t(`fstate.${done.state}`));
      draw(done);
    } catch (err) { msg.replaceChildren(errorBox(err)); }
  };
  return h('div', { class: 'decide' }, field('flags.note', note),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', 'data-action': 'dismiss', onclick: () => act('dismiss') }, t('flags.dismiss')),
      ' ',
      h('button', { type: 'button', class: 'danger', 'data-action': 'confirm', onclick: () => act('confirm') }, t('flags.confirm'))),
    msg);
}
