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

/** A fresh context of `browser` (its own sessionStorage) logged in as `email`, recording its API calls. */
export async function session(browser, base, email, opts = {}) {
  const context = await browser.newContext({ bypassCSP: !!opts.axe, acceptDownloads: true, ...opts.context });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const calls = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/') && !r.url().includes('/auth/')) calls.push({ method: r.method(), url: r.url(), body: r.postData() });
  });
  await login(page, base, email);
  return { context, page, errors, calls };
}

/** Logs in through the console's form and waits for the first page. */
export async function login(page, base, email) {
  await page.goto(`${base}/console/#/login`);
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('#nav-list a');
}

/** A supplier order of the demo buyer for `qty` kg of the demo millet, taken to `delivered`. */
export async function deliveredOrder(base, qty) {
  const buyer = await apiAs(base, 'buyer@demo.assist');
  const supplier = await apiAs(base, 'supplier@demo.assist');
  const catalog = await fetch(`${base}/api/v1/catalog?limit=200`).then((r) => r.json());
  const product = catalog.items.find((p) => p.name === '阳原小米');
  const placed = await buyer.post('/orders', {
    lines: [{ product_id: product.id, quantity: qty }], credit_category: 'purchase', deliver_to: '省直机关第一食堂',
    requested_date: new Date(Date.now() + 3 * 864e5).toISOString().slice(0, 10),
  }, { 'Idempotency-Key': crypto.randomUUID() });
  if (placed.status !== 201) throw new Error(`order: ${placed.text}`);
  const so = placed.body.supplier_orders[0].id;
  for (const a of ['confirm', 'ship', 'deliver']) {
    const r = await supplier.post(`/supplier-orders/${so}/${a}`);
    if (r.status !== 200) throw new Error(`${a}: ${r.text}`);
  }
  return { so, buyer, supplier };
}

/** A grain product of the demo supplier in Yangyuan, submitted for review; returns its id. */
export async function pendingProduct(base, name, price) {
  const supplier = await apiAs(base, 'supplier@demo.assist');
  const r = await supplier.post('/products', {
    name, category: 'grain', unit: 'kg', price, min_order_qty: '10', origin_region_code: '130727100201',
    description: 'millet for the console', shelf_life_days: 365, supply_capacity_per_month: '1000',
    certificates: [], poor_households_linked: 12, benefit_mechanism: '保底收购 guaranteed purchase',
  });
  if (r.status !== 201) throw new Error(`product: ${r.text}`);
  await supplier.post(`/products/${r.body.id}/submit`);
  return r.body.id;
}

/** The body of an API answer with this status, else an error naming the step. */
function must(r, status, what) {
  if (r.status !== status) throw new Error(`${what}: ${r.status} ${r.text}`);
  return r.body;
}

/** The date `n` days from today, YYYY-MM-DD. */
const day = (n) => new Date(Date.now() + n * 864e5).toISOString().slice(0, 10);

/**
 * A product of the demo supplier sold `pieces_by_weight` (`price` per kg, `nominal` kg a piece
 * within `pct` %), certified by the county office, which also requires a 合格证 of its batches;
 * two lots each with its 合格证, and an order of `pieces` (at least 2) of it by the demo buyer,
 * shipped naming both lots (one piece from the first, the rest from the second) and taken to
 * `delivered`. Everything through the API.
 */
export async function weighedDelivery(base, price, nominal, pct, pieces) {
  const supplier = await apiAs(base, 'supplier@demo.assist');
  const certifier = await apiAs(base, 'certifier@demo.assist');
  const buyer = await apiAs(base, 'buyer@demo.assist');
  const product = must(await supplier.post('/products', {
    name: `整猪 ${Date.now()}`, category: 'meat', unit: 'piece', price, min_order_qty: '1',
    origin_region_code: '130727100201', description: 'a whole pig, paid by the kg weighed on delivery',
    shelf_life_days: 10, supply_capacity_per_month: '100', certificates: [], poor_households_linked: 3,
    benefit_mechanism: '保底收购 guaranteed purchase', sale_mode: 'pieces_by_weight', nominal_weight_kg: nominal,
    weight_tolerance: pct,
  }), 201, 'product');
  must(await supplier.post(`/products/${product.id}/submit`), 200, 'submit');
  must(await certifier.post(`/products/${product.id}/certify`, { valid_until: day(365) }), 200, 'certify');
  must(await certifier.call('PUT', `/products/${product.id}/compliance-requirement`, { requires_compliance_certificate: true }),
    200, 'requirement');
  const stamp = Date.now();
  const lots = [];
  for (const [i, suffix] of ['A', 'B'].entries()) {
    const compliance_certificate = { number: `HGZ-130727-${stamp}-${suffix}`, issuer: '阳原县生猪养殖专业合作社',
      issued_on: day(0), trace_code: `TC${stamp}${suffix}` };
    const lot = must(await supplier.post(`/products/${product.id}/lots`,
      { quantity: '10', harvested_on: day(0), best_before: day(10 + i), compliance_certificate }), 201, 'lot');
    lots.push({ id: lot.id, certificate: compliance_certificate });
  }
  const placed = must(await buyer.post('/orders', {
    lines: [{ product_id: product.id, quantity: String(pieces) }], credit_category: 'purchase',
    deliver_to: '省直机关第一食堂', requested_date: day(3),
  }, { 'Idempotency-Key': crypto.randomUUID() }), 201, 'order');
  const so = placed.supplier_orders[0].id;
  const line = placed.supplier_orders[0].lines[0].id;
  must(await supplier.post(`/supplier-orders/${so}/confirm`), 200, 'confirm');
  must(await supplier.post(`/supplier-orders/${so}/ship`, { lots: [
    { line_id: line, lot_id: lots[0].id, quantity: '1' }, { line_id: line, lot_id: lots[1].id, quantity: String(pieces - 1) }] }),
  200, 'ship');
  must(await supplier.post(`/supplier-orders/${so}/deliver`), 200, 'deliver');
  return { supplier, certifier, buyer, product, so, line, lots };
}

/**
 * A grain product of the demo supplier at `price` a kg (far below the certified median: a
 * price outlier), certified with a lot, and `n` orders of 10 kg of it accepted by the demo
 * buyer, each sequenced into the ledger; then the admin runs a full fraud scan. Returns the
 * product id and the ledger entries.
 */
export async function outlierCredits(base, price, n) {
  const supplier = await apiAs(base, 'supplier@demo.assist');
  const certifier = await apiAs(base, 'certifier@demo.assist');
  const buyer = await apiAs(base, 'buyer@demo.assist');
  const admin = await apiAs(base, 'admin@demo.assist');
  const product = await pendingProduct(base, `低价小米 ${Date.now()}`, price);
  must(await certifier.post(`/products/${product}/certify`, { valid_until: day(365) }), 200, 'certify');
  must(await supplier.post(`/products/${product}/lots`, { quantity: '100', best_before: day(100) }), 201, 'lot');
  const sos = [];
  for (let i = 0; i < n; i++) {
    const placed = must(await buyer.post('/orders', {
      lines: [{ product_id: product, quantity: '10' }], credit_category: 'purchase', deliver_to: '省直机关第一食堂',
      requested_date: day(3),
    }, { 'Idempotency-Key': crypto.randomUUID() }), 201, 'order');
    const so = placed.supplier_orders[0];
    for (const a of ['confirm', 'ship', 'deliver']) must(await supplier.post(`/supplier-orders/${so.id}/${a}`), 200, a);
    must(await buyer.post(`/supplier-orders/${so.id}/accept`, {
      lines: [{ line_id: so.lines[0].id, accepted_quantity: '10' }], invoice_number: `INV-OUTLIER-${i}`,
    }), 200, 'accept');
    sos.push(so.id);
  }
  let entries = [];
  for (let i = 0; i < 50; i++) {
    entries = (await buyer.get('/ledger?limit=200')).body.items.filter((e) => sos.includes(e.supplier_order_id));
    if (entries.length === n && entries.every((e) => e.seq)) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  must(await admin.post('/flags/scan?full=true'), 200, 'scan');
  return { product, entries };
}
