// Progress: the year's credited amount by month against the target's pace line, the budget
// units with their progress and laggard reasons, the rankings, and a unit's own page.
import { api, download } from '../api.js';
import { h, page, table, money, pct, paged, field, select, errorBox } from '../dom.js';
import { t } from '../i18n.js';
import { progressChart, legend } from '../chart.js';
import { mayOpen } from '../main.js';

const SUPERVISING = ['evaluator', 'supervisor', 'admin'];

/** Cumulative pace fraction at the end of each month (1..12): the settings' weights, else days. */
export function paceFractions(settings, year) {
  const w = settings && Array.isArray(settings.pace_weights) ? settings.pace_weights : [];
  const total = w.length === 12 ? w.reduce((a, b) => a + b, 0) : 0;
  const out = [];
  let acc = 0;
  for (let m = 1; m <= 12; m++) {
    if (total > 0) {
      acc += w[m - 1];
      out.push(acc / total);
    } else {
      const start = Date.UTC(year, 0, 1), end = Date.UTC(year + 1, 0, 1);
      out.push((Date.UTC(year, m, 1) - start) / (end - start));
    }
  }
  return out;
}

function yearChooser(year) {
  const now = new Date().getFullYear(); // the budget year where the console is used
  const sel = select('year', [now + 1, now, now - 1, now - 2].map((y) => [y, String(y)]), year);
  sel.addEventListener('change', () => { location.hash = `#/progress?year=${sel.value}`; });
  return field('progress.year', sel);
}

export async function render(parts, params, me) {
  const year = Number(params.get('year')) || new Date().getFullYear();
  if (parts[0] === 'unit' && parts[1]) return unitPage(parts[1], year, me);
  const main = page('page.progress', h('p', { class: 'status', role: 'status' }, t('loading')));
  const role = me.user.role;
  const supervising = SUPERVISING.includes(role);
  const [summary, settings, units, plan] = await Promise.all([
    api(`/reports/summary?year=${year}&group_by=month`),
    api(`/plan-settings/${year}`).catch(() => null),
    supervising ? api(`/supervision/${year}/units`) : null,
    supervising ? null : api(`/buyers/${me.user.org_id}/plans/${year}`).catch(() => null),
  ]);
  const byBuyer = supervising ? null : await api(`/reports/summary?year=${year}&group_by=buyer`);
  let target = null;
  if (units) target = units.units.reduce((a, u) => a + Number(u.target || 0), 0);
  else if (plan && plan.approved_target) target = Number(plan.approved_target);
  const fractions = paceFractions(settings, year);
  const byMonth = new Map(summary.rows.map((r) => [Number(r.key), Number(r.total)]));
  let cum = 0;
  const points = fractions.map((f, i) => {
    const credited = byMonth.get(i + 1) || 0;
    cum += credited;
    return { month: i + 1, credited, cumulative: cum, pace: target === null ? null : target * f };
  });
  const chartTitle = `${t('chart.title')} ${year}`;
  const chartBox = h('section', { class: 'chart-box', 'aria-labelledby': 'chart-h' },
    h('h2', { id: 'chart-h' }, chartTitle),
    h('p', {}, `${t('progress.target')}: ${target === null ? t('progress.no_target') : money(target)} · `
      + `${t('progress.credited')}: ${money(summary.totals.total)}`),
    h('div', { class: 'chart-grid' },
      h('figure', {}, progressChart(points, { title: chartTitle }), legend()),
      table('chart.table', [
        ['chart.month', (p) => String(p.month)],
        ['chart.monthly', (p) => money(p.credited)],
        ['chart.cumulative', (p) => money(p.cumulative)],
        ['chart.pace', (p) => (p.pace === null ? '—' : money(p.pace))],
      ], points, { class: 'compact', rowAttrs: (p) => ({ dataset: { month: p.month } }) })));
  const exports = h('div', { class: 'actions' },
    units ? exportButton(`/supervision/${year}/units?format=xlsx`, `units-${year}.xlsx`, 'export.units_xlsx') : null,
    units ? exportButton(`/supervision/${year}/units?format=csv`, `units-${year}.csv`, 'export.units_csv') : null,
    exportButton(`/reports/summary?year=${year}&group_by=month&format=xlsx`, `summary-${year}.xlsx`, 'export.summary_xlsx'),
    exportButton(`/reports/summary?year=${year}&group_by=month&format=csv`, `summary-${year}.csv`, 'export.summary_csv'));
  const rest = units ? unitSections(units, year) : buyerSection(plan, me, year, byBuyer);
  main.replaceChildren(main.querySelector('h1'), yearChooser(year), chartBox, exports, ...rest);
}

function exportButton(path, filename, key) {
  const b = h('button', { type: 'button', class: 'secondary', 'data-export': filename }, t(key));
  b.addEventListener('click', async () => {
    try { await download(path, filename); } catch (e) { b.after(errorBox(e)); }
  });
  return b;
}

function bar(u) {
  const v = u.progress === null ? 0 : Math.min(1, Number(u.progress));
  const fill = h('div', { class: 'bar-fill' });
  fill.style.width = `${Math.round(v * 100)}%`;
  return h('div', { class: 'progress-cell' },
    h('div', { class: 'bar-track', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100,
      'aria-valuenow': Math.round(v * 100), 'aria-label': `${u.name} ${pct(u.progress)}` }, fill),
    h('span', {}, pct(u.progress)));
}

function reasons(u) {
  return u.laggard_reasons.length
    ? h('ul', { class: 'reasons' }, u.laggard_reasons.map((r) => h('li', {}, t(`laggard.${r}`))))
    : t('progress.on_track');
}

function unitSections(r, year) {
  const unitLink = (u) => h('a', { href: `#/progress/unit/${u.org_id}?year=${year}` }, u.name);
  const units = h('section', { 'aria-labelledby': 'units-h' }, h('h2', { id: 'units-h' }, t('progress.units')),
    h('p', {}, `${t('progress.expected')}: ${pct(r.expected_fraction)} · ${t('progress.deadline')}: ${r.filing_deadline}`),
    paged(r.units, (rows) => table('progress.units', [
      ['col.rank', (u) => String(u.rank)],
      ['col.unit', unitLink],
      ['col.plan', (u) => (u.plan_status ? t(`plan.${u.plan_status}`) : t('plan.none'))],
      ['col.target', (u) => money(u.target)],
      ['col.credited', (u) => money(u.credited)],
      ['col.progress', bar],
      ['col.expected', (u) => money(u.expected_by_today)],
      ['col.reasons', reasons],
    ], rows, { rowAttrs: (u) => ({ dataset: { org: u.org_id } }) })));
  const regions = h('section', { 'aria-labelledby': 'regions-h' }, h('h2', { id: 'regions-h' }, t('progress.regions')),
    paged(r.regions, (rows) => table('progress.regions', [
      ['col.rank', (g) => String(g.rank)],
      ['col.region', (g) => `${g.name} (${g.region_code})`],
      ['col.units', (g) => String(g.units)],
      ['col.target', (g) => money(g.target)],
      ['col.credited', (g) => money(g.credited)],
      ['col.progress', (g) => pct(g.progress)],
    ], rows)));
  return [units, regions];
}

/** A buyer's own plan, itself and its children by credited amount, and the quota ranking. */
function buyerSection(plan, me, year, byBuyer) {
  const own = h('section', { 'aria-labelledby': 'plan-h' }, h('h2', { id: 'plan-h' }, t('progress.plan')),
    planFacts(plan),
    h('p', {}, h('a', { href: `#/progress/unit/${me.user.org_id}?year=${year}` }, t('progress.open_unit'))));
  const unitLink = (id, name) => h('a', { href: `#/progress/unit/${id}?year=${year}` }, name);
  const children = h('section', { 'aria-labelledby': 'children-h' }, h('h2', { id: 'children-h' }, t('progress.children')),
    paged(byBuyer.rows, (rows) => table('progress.children', [
      ['col.unit', (r) => unitLink(r.key, r.name)],
      ['col.credited', (r) => money(r.total)],
      ['col.entries', (r) => String(r.entry_count)],
    ], rows)));
  const ranking = byBuyer.ranking && byBuyer.ranking.length ? h('section', { 'aria-labelledby': 'ranking-h' },
    h('h2', { id: 'ranking-h' }, t('progress.ranking')),
    paged(byBuyer.ranking, (rows) => table('progress.ranking', [
      ['col.rank', (r) => String(r.rank)],
      ['col.unit', (r) => unitLink(r.buyer_org_id, r.name)],
      ['col.target', (r) => money(r.target)],
      ['col.credited', (r) => money(r.credited)],
      ['col.progress', (r) => bar({ ...r, progress: r.progress })],
    ], rows))) : null;
  return [own, children, ranking].filter(Boolean);
}

function planFacts(plan) {
  if (!plan) return h('p', {}, t('progress.no_plan'));
  const dl = h('dl', { class: 'facts' });
  const add = (k, v) => dl.append(h('dt', {}, t(k)), h('dd', {}, v));
  add('col.plan', t(`plan.${plan.status}`));
  add('plan.budget', money(plan.food_budget));
  add('plan.share', plan.reserved_share === null ? '—' : pct(plan.reserved_share));
  add('col.target', money(plan.approved_target));
  add('plan.late', plan.late ? t('yes') : t('no'));
  return dl;
}

async function unitPage(orgId, year, me) {
  const main = page('progress.unit', h('p', { class: 'status', role: 'status' }, t('loading')));
  const supervising = SUPERVISING.includes(me.user.role);
  const [plan, units] = await Promise.all([
    api(`/buyers/${orgId}/plans/${year}`).catch((e) => (e.status === 404 ? null : Promise.reject(e))),
    supervising ? api(`/supervision/${year}/units`) : null,
  ]);
  const u = units ? units.units.find((x) => x.org_id === orgId) : null;
  const body = [h('p', {}, h('a', { href: `#/progress?year=${year}` }, t('back')))];
  if (u) {
    body.push(h('h2', {}, u.name), table('progress.unit', [
      ['col.rank', (x) => String(x.rank)],
      ['col.target', (x) => money(x.target)],
      ['col.credited', (x) => money(x.credited)],
      ['col.progress', bar],
      ['col.expected', (x) => money(x.expected_by_today)],
      ['col.reasons', reasons],
    ], [u]));
  }
  body.push(h('h2', {}, t('progress.plan')), planFacts(plan));
  // A supervisor has no ledger page: the link would only lead back to the overview.
  if (mayOpen('ledger', me.user.role)) {
    body.push(h('p', {}, h('a', { href: `#/ledger?buyer=${orgId}` }, t('progress.unit_ledger'))));
  }
  main.replaceChildren(main.querySelector('h1'), ...body);
}
