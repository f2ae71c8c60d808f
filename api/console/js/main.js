// Boot: the hash router, the role-based navigation and the language switch.
import { session, toLogin, logout, claimTab } from './api.js';
import { t, lang, setLang } from './i18n.js';
import { h } from './dom.js';

// Each page, the roles that may open it, and the module that draws it (loaded on first use).
export const PAGES = [
  { id: 'progress', roles: ['evaluator', 'supervisor', 'buyer', 'admin'], load: () => import('./pages/progress.js') },
  { id: 'ledger', roles: ['evaluator', 'admin', 'buyer', 'supplier'], load: () => import('./pages/ledger.js') },
  { id: 'alerts', roles: ['evaluator', 'certifier', 'admin'], load: () => import('./pages/alerts.js') },
  { id: 'certification', roles: ['certifier'], load: () => import('./pages/certification.js') },
  { id: 'deliveries', roles: ['buyer'], load: () => import('./pages/deliveries.js') },
  { id: 'flags', roles: ['evaluator', 'supervisor', 'admin'], load: () => import('./pages/flags.js') },
  // Not in the navigation: opened from a shipped lot's link.
  { id: 'trace', roles: ['buyer', 'certifier', 'evaluator', 'admin', 'supplier'], hidden: true, load: () => import('./pages/trace.js') },
];

function role() { return session()?.me?.user?.role; }
/** Whether `who` (a role) may open page `id`: links to a page it may not open are not drawn. */
export function mayOpen(id, who) { return PAGES.some((p) => p.id === id && p.roles.includes(who)); }
function allowed() { return PAGES.filter((p) => p.roles.includes(role())); }

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  return { parts: path.split('/').filter(Boolean), params: new URLSearchParams(query) };
}

function drawChrome() {
  document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en';
  document.getElementById('brand').textContent = t('app.title');
  document.getElementById('skip-link').textContent = t('skip');
  document.getElementById('nav').setAttribute('aria-label', t('nav'));
  const langBtn = document.getElementById('lang');
  langBtn.textContent = lang() === 'zh' ? 'English' : '中文';
  langBtn.setAttribute('lang', lang() === 'zh' ? 'en' : 'zh-CN');
  const s = session();
  const out = document.getElementById('logout');
  out.hidden = !s;
  out.textContent = t('logout');
  document.getElementById('who').textContent = s?.me
    ? `${s.me.user.email} · ${t('role.' + s.me.user.role)} · ${s.me.organization.name}` : '';
  const current = parseHash().parts[0];
  document.getElementById('nav-list').replaceChildren(...(s ? allowed().filter((p) => !p.hidden) : []).map((p) =>
    h('li', {}, h('a', { href: `#/${p.id}`, 'aria-current': p.id === current ? 'page' : null }, t(`page.${p.id}`)))));
}

let drawing = 0;
async function route(e) {
  // After a page change the keyboard starts from the new page's content (not on first load).
  if (e && e.type === 'hashchange' && !location.hash.startsWith('#/login')) document.getElementById('main').focus();
  const mine = ++drawing;
  const { parts, params } = parseHash();
  const s = session();
  drawChrome();
  if (parts[0] === 'login' || !s?.me) {
    if (parts[0] !== 'login') { toLogin(); return; }
    const m = await import('./pages/login.js');
    if (mine === drawing) m.render(params);
    return;
  }
  const pages = allowed();
  const p = pages.find((x) => x.id === parts[0]);
  if (!p) {
    location.replace(`#/${pages[0] ? pages[0].id : 'login'}`);
    return;
  }
  const m = await p.load();
  if (mine !== drawing) return;
  try {
    await m.render(parts.slice(1), params, s.me);
  } catch (e) {
    if (e.status !== 401 && mine === drawing) {
      const { errorBox } = await import('./dom.js');
      document.getElementById('main').append(errorBox(e));
    }
  }
}

document.getElementById('lang').addEventListener('click', () => { setLang(lang() === 'zh' ? 'en' : 'zh'); route(); });
document.getElementById('logout').addEventListener('click', async () => {
  await logout();
  location.hash = '#/login';
});
document.getElementById('skip-link').addEventListener('click', (e) => {
  e.preventDefault();
  document.getElementById('main').focus();
});
await claimTab();
window.addEventListener('hashchange', route);
route();
