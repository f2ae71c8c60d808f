// A hand-written SVG chart: monthly credited amounts as bars, the cumulative credited amount
// as a line, and the target's pace line. Every plotted value is on its element as data-*
// attributes; the page puts the same numbers in a table beside the chart.
import { t } from './i18n.js';

const NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** points: [{month, credited, cumulative, pace}] (yuan as numbers; pace may be null). */
export function progressChart(points, { title }) {
  const W = 640, H = 300, L = 70, R = 12, T = 16, B = 36;
  const max = Math.max(1, ...points.flatMap((p) => [p.cumulative, p.pace ?? 0, p.credited]));
  const x = (i) => L + ((W - L - R) * (i + 0.5)) / 12;
  const y = (v) => T + (H - T - B) * (1 - Math.max(0, v) / max);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'chart', 'aria-labelledby': 'chart-title chart-desc',
    'data-max': max });
  svg.append(s('title', { id: 'chart-title' }, title), s('desc', { id: 'chart-desc' }, t('chart.desc')));
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    svg.append(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }),
      s('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, compact(v)));
  }
  const bw = ((W - L - R) / 12) * 0.55;
  const bars = s('g', { class: 'bars' });
  points.forEach((p, i) => {
    bars.append(s('rect', { x: x(i) - bw / 2, y: y(p.credited), width: bw, height: Math.max(0, y(0) - y(p.credited)),
      class: 'bar', 'data-month': p.month, 'data-credited': p.credited.toFixed(2) }));
    svg.append(s('text', { x: x(i), y: H - B + 16, 'text-anchor': 'middle', class: 'axis' }, String(p.month)));
  });
  svg.append(bars);
  const line = (key, cls) => {
    const pts = points.filter((p) => p[key] !== null && p[key] !== undefined);
    if (!pts.length) return;
    const g = s('g', { class: cls });
    g.append(s('polyline', { points: pts.map((p) => `${x(p.month - 1)},${y(p[key])}`).join(' '), fill: 'none' }));
    for (const p of pts) {
      g.append(s('circle', { cx: x(p.month - 1), cy: y(p[key]), r: 3.5, 'data-month': p.month,
        [`data-${key}`]: p[key].toFixed(2) }));
    }
    svg.append(g);
  };
  line('pace', 'pace');
  line('cumulative', 'cumulative');
  return svg;
}

export function legend() {
  const item = (cls, key) => {
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = `swatch ${cls}`;
    sw.setAttribute('aria-hidden', 'true');
    li.append(sw, t(key));
    return li;
  };
  const ul = document.createElement('ul');
  ul.className = 'legend';
  ul.append(item('bar', 'chart.monthly'), item('cumulative', 'chart.cumulative'), item('pace', 'chart.pace'));
  return ul;
}

function compact(v) {
  if (v >= 1e8) return (v / 1e8).toFixed(1) + (t('unit.yi'));
  if (v >= 1e4) return (v / 1e4).toFixed(1) + (t('unit.wan'));
  return v.toFixed(0);
}
