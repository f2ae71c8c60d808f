// Alerts board (evaluators, county offices, admin): open alerts by level and county, unsold
// reports, matched buyers and pledges, and how fast each county responds. Open and acknowledged
// alerts are loaded by status to the end (however old); response times are taken over the
// newest WINDOW alerts of every status, and the page says so.
import { all } from '../api.js';
import { h, page, table, paged, shortId, when, localDay } from '../dom.js';
import { t } from '../i18n.js';

const LEVELS = ['red', 'orange', 'yellow'];
const WINDOW = 1000;

export async function render() {
  const main = page('page.alerts', h('p', { class: 'status', role: 'status' }, t('loading')));
  const [open, acknowledged, recent] = await Promise.all([
    all('/alerts?status=open&limit=200', Infinity),
    all('/alerts?status=acknowledged&limit=200', Infinity),
    all('/alerts?limit=200', WINDOW),
  ]);
  const latest = recent.slice(0, WINDOW);
  const known = new Map([...latest, ...acknowledged, ...open].map((a) => [a.id, a]));
  const alerts = [...known.values()].sort((a, b) => (a.id < b.id ? 1 : -1));
  const counties = [...new Set(alerts.map((a) => a.origin_county_code))].sort();
  const count = (c, l) => open.filter((a) => a.origin_county_code === c && a.level === l).length;
  const board = h('section', { 'aria-labelledby': 'board-h' }, h('h2', { id: 'board-h' }, t('alerts.board')),
    table('alerts.board', [
      ['col.county', (c) => c],
      ...LEVELS.map((l) => [`level.${l}`, (c) => h('span', { class: `level ${l}`, 'data-count': count(c, l) }, String(count(c, l)))]),
    ], counties));
  const unsold = alerts.filter((a) => a.reasons.some((r) => r.code === 'unsold_report'));
  const unsoldBox = h('section', { 'aria-labelledby': 'unsold-h' }, h('h2', { id: 'unsold-h' }, t('alerts.unsold')),
    paged(unsold, (rows) => table('alerts.unsold', [
      ['col.county', (a) => a.origin_county_code],
      ['cert.category', (a) => t(`cat.${a.category}`)],
      ['col.detail', (a) => a.reasons.filter((r) => r.code === 'unsold_report').map((r) => r.detail).join('; ')],
      ['col.status', (a) => t(`status.${a.status}`)],
    ], rows)));
  const openBox = h('section', { 'aria-labelledby': 'open-h' }, h('h2', { id: 'open-h' }, t('alerts.open')),
    paged(open, (rows) => table('alerts.open', [
      ['col.level', (a) => h('span', { class: `level ${a.level}` }, t(`level.${a.level}`))],
      ['col.county', (a) => a.origin_county_code],
      ['cert.category', (a) => t(`cat.${a.category}`)],
      ['col.reasons', (a) => h('ul', { class: 'reasons' }, a.reasons.map((r) => h('li', {}, `${t(`reason.${r.code}`)}: ${r.detail}`)))],
      ['alerts.matched', (a) => (a.matched_buyers.length
        ? h('ol', { class: 'reasons' }, a.matched_buyers.map((b) => h('li', {}, b.name)))
        : '—')],
      ['alerts.pledged', (a) => `${a.pledged} (${a.pledges.filter((p) => !p.withdrawn).length})`],
      ['col.opened', (a) => when(a.opened_at)],
    ], rows, { rowAttrs: (a) => ({ dataset: { alert: shortId(a.id) } }) }), 10));
  const inCounty = (list, c) => list.filter((a) => a.origin_county_code === c);
  const times = counties.map((c) => responseTimes(c, inCounty(latest, c), inCounty(open, c).length));
  const since = latest.length ? latest.reduce((m, a) => (a.opened_at < m ? a.opened_at : m), latest[0].opened_at) : null;
  const timesBox = h('section', { 'aria-labelledby': 'times-h' }, h('h2', { id: 'times-h' }, t('alerts.times')),
    h('p', { class: 'note', 'data-window': latest.length, 'data-window-since': since ? localDay(new Date(since)) : '' },
      t('alerts.window').replace('{n}', latest.length).replace('{since}', since ? localDay(new Date(since)) : '—')),
    table('alerts.times', [
      ['col.county', (r) => r.county],
      ['alerts.n', (r) => String(r.n)],
      ['alerts.ack_median', (r) => hours(r.ack)],
      ['alerts.resolve_median', (r) => hours(r.resolve)],
      ['alerts.waiting', (r) => String(r.waiting)],
    ], times));
  main.replaceChildren(main.querySelector('h1'), board, openBox, unsoldBox, timesBox);
}

function median(xs) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median hours from opening to acknowledgement and to resolution over `list`, and how many wait. */
function responseTimes(county, list, waiting) {
  const since = (a, k) => (a[k] ? (Date.parse(a[k]) - Date.parse(a.opened_at)) / 3.6e6 : null);
  return {
    county,
    n: list.length,
    ack: median(list.map((a) => since(a, 'acknowledged_at')).filter((x) => x !== null)),
    resolve: median(list.map((a) => since(a, 'resolved_at')).filter((x) => x !== null)),
    waiting,
  };
}

function hours(x) { return x === null ? '—' : `${x.toFixed(1)} h`; }
