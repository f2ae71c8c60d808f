// Shared by the console's browser tests and its screenshot script: a served binary on the
// embedded default with demo data, Debian's chromium through playwright-core, API helpers.
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

const require = createRequire(new URL('../tools/package.json', import.meta.url));
export const { chromium } = require('playwright-core');
export const AXE_PATH = require.resolve('axe-core/axe.min.js');
export const PASSWORD = 'demo-pass-2026';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

/** Starts `ASSIST_BIN serve` on a free port with the demo data; resolves when ready. */
export async function startServer() {
  const bin = process.env.ASSIST_BIN || new URL('../../target/debug/assist-market', import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), 'assist-console-'));
  const port = await freePort();
  const env = { ...process.env, ASSIST_DATA_DIR: join(dir, 'data'), ASSIST_BIND: `127.0.0.1:${port}`, ASSIST_DEMO: 'true' };
  for (const k of ['ASSIST_DATABASE_URL', 'ASSIST_REDIS_URL', 'ASSIST_SMTP_URL', 'ASSIST_CONFIG']) delete env[k];
  const child = spawn(bin, ['serve'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`the server stopped:\n${log}`);
    try { if ((await fetch(`${base}/readyz`)).ok) break; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    log: () => log,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => { if (child.exitCode !== null) r(); else child.on('exit', r); });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

/** The API as one account: token, then json(method, path, body) → {status, body}. */
export async function apiAs(base, email) {
  const r = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }) });
  if (!r.ok) throw new Error(`login ${email}: ${r.status}`);
  const { access_token: token } = await r.json();
  const call = async (method, path, body, headers = {}) => {
    const res = await fetch(path.startsWith('http') ? path : `${base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, body: json, text };
  };
  return { token, call, get: (p) => call('GET', p), post: (p, b, h) => call('POST', p, b || {}, h) };
}

/** Logs in through the console's form and waits for the first page. */
export async function login(page, base, email) {
  await page.goto(`${base}/console/#/login`);
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('#nav-list a');
}
