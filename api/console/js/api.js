// The API on this origin, with the caller's tokens (sessionStorage: they end with the tab).
// A 401 refreshes the access token once; if that fails, the person is sent to log in and
// brought back to the page (hash route) they were on. The refresh is single-flight: a refresh
// token is spent on use and the server revokes the whole session when one is presented twice,
// so parallel requests that meet the same expired access token share one refresh.
const BASE = '/api/v1';
const KEY = 'assist.console.session';

export function session() {
  try { return JSON.parse(sessionStorage.getItem(KEY) || 'null'); } catch { return null; }
}
export function saveSession(s) { sessionStorage.setItem(KEY, JSON.stringify(s)); }
export function clearSession() { sessionStorage.removeItem(KEY); }

const TAB = 'assist.console.tab';
/**
 * Makes this tab's session its own. "Duplicate tab" copies sessionStorage, tokens and all;
 * the two tabs would then each spend the one refresh token, and the server, seeing a spent
 * token presented again, revokes the session as stolen (both tabs logged out, a false alarm
 * in the audit log). So each tab holds a lock named after its id for as long as it lives; a
 * tab that cannot take its id's lock is a copy of a live tab, and forgets the copied session
 * (its person logs in). A reload finds the lock released, or released within the wait.
 */
export async function claimTab() {
  if (!navigator.locks || !AbortSignal.timeout || !crypto.randomUUID) return;
  for (;;) {
    let id = sessionStorage.getItem(TAB);
    if (!id) {
      id = crypto.randomUUID();
      sessionStorage.setItem(TAB, id);
    }
    const held = await new Promise((resolve) => {
      navigator.locks.request(`${TAB}.${id}`, { signal: AbortSignal.timeout(1500) }, () => {
        resolve(true);
        return new Promise(() => {}); // held until the tab closes or reloads
      }).catch(() => resolve(false));
    });
    if (held) return;
    sessionStorage.removeItem(TAB);
    clearSession();
  }
}

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function toLogin() {
  if (location.hash.startsWith('#/login')) return;
  const here = location.hash && !location.hash.startsWith('#/login') ? location.hash : '#/progress';
  clearSession();
  location.hash = '#/login?next=' + encodeURIComponent(here);
}

/** Exchanges the stored refresh token for a new pair; false when the server refuses it. */
async function refresh() {
  const s = session();
  if (!s || !s.refresh_token) return false;
  const r = await fetch(BASE + '/auth/refresh', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: s.refresh_token }),
  });
  if (!r.ok) return false;
  const t = await r.json();
  const cur = session();
  if (!cur) return false; // logged out meanwhile: not brought back
  if (cur.refresh_token !== s.refresh_token) return true; // a login stored newer tokens meanwhile
  saveSession({ ...cur, access_token: t.access_token, refresh_token: t.refresh_token });
  return true;
}

let refreshing = null;
/** The refresh in flight, else a new one: every 401 of the moment waits on the same. */
function refreshOnce() {
  if (!refreshing) refreshing = refresh().finally(() => { refreshing = null; });
  return refreshing;
}

/**
 * After a 401 to `sent` (the access token a request carried): true when a newer access token
 * is stored (another request refreshed meanwhile) or a refresh now gives one.
 */
async function renewed(sent) {
  const now = session();
  if (now && now.access_token && now.access_token !== sent) return true;
  return refreshOnce();
}

function send(path, opts, s) {
  const headers = { Accept: opts.accept || 'application/json', ...(opts.headers || {}) };
  if (s) headers.Authorization = 'Bearer ' + s.access_token;
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  return fetch(BASE + path, { method: opts.method || 'GET', headers, body });
}

/** Calls the API; returns parsed JSON (or text, a Blob or bytes with opts.as = 'text' | 'blob' | 'bytes'). */
export async function api(path, opts = {}) {
  const s = session();
  let r = await send(path, opts, s);
  if (r.status === 401 && s && !opts.noRetry) {
    if (await renewed(s.access_token)) r = await send(path, opts, session());
    if (r.status === 401) {
      toLogin();
      throw new ApiError(401, null);
    }
  }
  if (!r.ok) {
    let problem = null;
    try { problem = await r.json(); } catch { /* not JSON */ }
    throw new ApiError(r.status, problem);
  }
  if (r.status === 204) return null;
  if (opts.as === 'text') return r.text();
  if (opts.as === 'blob') return r.blob();
  if (opts.as === 'bytes') return new Uint8Array(await r.arrayBuffer());
  if (opts.as === 'response') return r;
  return r.json();
}

export async function login(email, password) {
  const r = await fetch(BASE + '/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (!r.ok) {
    let problem = null;
    try { problem = await r.json(); } catch { /* not JSON */ }
    throw new ApiError(r.status, problem);
  }
  const t = await r.json();
  saveSession({ access_token: t.access_token, refresh_token: t.refresh_token });
  const me = await api('/me');
  saveSession({ ...session(), me });
  return me;
}

/**
 * Ends the session on the server (its every token), then in this tab. An access token that
 * expired while the person was away is renewed once first: otherwise the server would answer
 * 401, and the session, and any copy of its refresh token, would live on for days.
 */
export async function logout() {
  const s = session();
  try {
    const r = await send('/auth/logout', { method: 'POST' }, s);
    if (r.status === 401 && s && await renewed(s.access_token)) await send('/auth/logout', { method: 'POST' }, session());
  } catch { /* unreachable: the tab forgets the session all the same */ }
  clearSession();
}

/** Every page of a cursor-paged list, up to `max` items. */
export async function all(path, max = 500) {
  const out = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api(path + (cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''));
    out.push(...(page.items || []));
    cursor = page.next_cursor;
  } while (cursor && out.length < max);
  return out;
}

/** Downloads what the API serves at `path` (CSV, XLSX) as a file. */
export async function download(path, filename) {
  const blob = await api(path, { as: 'blob', accept: '*/*' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
