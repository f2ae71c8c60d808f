// Small helpers for building the pages without a framework.
import { t } from './i18n.js';

/** Creates an element: h('a', {href: '#/x', class: 'c'}, 'text', child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/**
 * Replaces the main area with a titled page and returns the page's own element: a render
 * that a newer one overtook (the person moved on) writes into a detached element, unseen.
 */
export function page(titleKey, ...children) {
  const body = h('div', { class: 'page' }, h('h1', { id: 'page-title' }, t(titleKey)), ...children);
  document.getElementById('main').replaceChildren(body);
  document.title = `${t(titleKey)} · ${t('app.title')}`;
  return body;
}

/** A message shown in a live region (screen readers hear it). */
export function announce(msg) {
  const live = document.getElementById('live');
  live.textContent = '';
  setTimeout(() => { live.textContent = msg; }, 30);
}

export function errorBox(err) {
  const detail = err && err.problem && err.problem.errors
    ? err.problem.errors.map((e) => `${e.field || e.name || ''}: ${e.message || e.detail || ''}`).join('; ')
    : '';
  return h('p', { class: 'error', role: 'alert' }, `${t('error')}: ${err.message}`, detail ? ` (${detail})` : '');
}

const two = (n) => String(n).padStart(2, '0');

/** The browser's calendar day as YYYY-MM-DD (the business day where the console is used). */
export function localDay(d = new Date()) {
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

/**
 * An instant the API sends in UTC (RFC 3339), shown in the browser's local time: its day
 * (`day`) or its day and time (YYYY-MM-DD HH:MM), in a <time> that keeps the instant. Cutting
 * the UTC text instead would show 07:00 on 1 January in Beijing as 31 December.
 */
export function when(instant, { day = false } = {}) {
  if (!instant) return '—';
  const d = new Date(instant);
  if (Number.isNaN(d.getTime())) return String(instant);
  const text = day ? localDay(d) : `${localDay(d)} ${two(d.getHours())}:${two(d.getMinutes())}`;
  return h('time', { datetime: instant, title: instant }, text);
}

/** An amount the API sends as a decimal string of yuan, shown with grouping. */
export function money(v) {
  if (v === null || v === undefined || v === '') return '—';
  const n = Number(v);
  if (!Number.isFinite(n)) return String(v);
  return '¥' + n.toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

export function pct(ratio) {
  if (ratio === null || ratio === undefined) return '—';
  return (Number(ratio) * 100).toFixed(1) + '%';
}

/** A table with a caption; `cols` are [labelKey, (row) => cell]. */
export function table(captionKey, cols, rows, opts = {}) {
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t(captionKey) },
    h('table', { class: opts.class || '' },
      h('caption', {}, t(captionKey)),
      h('thead', {}, h('tr', {}, cols.map(([k]) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, rows.length
        ? rows.map((r) => h('tr', opts.rowAttrs ? opts.rowAttrs(r) : {}, cols.map(([, f]) => h('td', {}, f(r)))))
        : h('tr', {}, h('td', { colspan: cols.length }, t('empty'))))));
}

/** A labelled form control. */
export function field(labelKey, control) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, t(labelKey)), control);
}

export function select(name, options, value) {
  return h('select', { name }, options.map(([v, label]) =>
    h('option', { value: v, selected: String(v) === String(value ?? '') }, label)));
}

/** The end of a UUIDv7 (its start is a timestamp, alike for rows made together). */
export function shortId(id) { return id ? String(id).slice(-8) : '—'; }

/** Shows `rows` `size` at a time, with previous/next buttons; draw(rows) makes the table. */
export function paged(rows, draw, size = 20) {
  const box = h('div', { class: 'paged' });
  let at = 0;
  const show = () => {
    const pages = Math.max(1, Math.ceil(rows.length / size));
    const nav = rows.length > size ? h('div', { class: 'pager' },
      h('button', { type: 'button', disabled: at === 0, onclick: () => { at -= 1; show(); } }, t('prev')),
      h('span', {}, `${at + 1} / ${pages}`),
      h('button', { type: 'button', disabled: at >= pages - 1, onclick: () => { at += 1; show(); } }, t('next'))) : null;
    box.replaceChildren(...[draw(rows.slice(at * size, (at + 1) * size)), nav].filter(Boolean));
  };
  show();
  return box;
}

/**
 * A cursor-paged API list: fetchPage(cursor) gives {items, next_cursor}; draw(items) makes
 * the view (may be async). Resolves to a box with previous/next buttons when there is more.
 */
export async function cursorPaged(fetchPage, draw) {
  const box = h('div', { class: 'paged' });
  const cursors = [null];
  const show = async (i) => {
    const p = await fetchPage(cursors[i]);
    cursors[i + 1] = p.next_cursor;
    const nav = i > 0 || p.next_cursor ? h('div', { class: 'pager' },
      h('button', { type: 'button', disabled: i === 0, onclick: () => show(i - 1) }, t('prev')),
      h('span', {}, String(i + 1)),
      h('button', { type: 'button', disabled: !p.next_cursor, onclick: () => show(i + 1) }, t('next'))) : null;
    box.replaceChildren(...[await draw(p.items), nav].filter(Boolean));
  };
  await show(0);
  return box;
}
