// The web console in Debian's chromium (tests/run runs this once, on the embedded default):
// each role's pages, the chart against the API, certification, acceptance into a verified
// ledger entry, an XLSX download, axe-core on every page, the first load's weight, and a
// replay of one role's requests with another role's token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, launch, apiAs, login, deliveredOrder, pendingProduct, session, AXE_PATH } from './lib.mjs';

let server, browser;
const NAV = {
  'evaluator@demo.assist': ['progress', 'ledger', 'alerts', 'flags'],
  'supervisor@demo.assist': ['progress', 'flags'],
  'buyer@demo.assist': ['progress', 'ledger', 'deliveries'],
  'certifier@demo.assist': ['alerts', 'certification'],
  'supplier@demo.assist': ['ledger'],
  'admin@demo.assist': ['progress', 'ledger', 'alerts', 'flags'],
};
const ALL_PAGES = ['progress', 'ledger', 'alerts', 'certification', 'deliveries', 'flags'];
const YEAR = new Date().getUTCFullYear();

before(async () => {
  server = await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A fresh context logged in as `email`, recording its API calls (lib.mjs `session`). */
const as = (email, opts) => session(browser, server.base, email, opts);

async function waitLoaded(page) {
  await page.waitForFunction(() => !document.querySelector('main .status[role=status]'), null, { timeout: 20000 });
}

test('first load of /console/ stays under 300 KB compressed', async () => {
  // Everything the console itself sends (HTML, CSS, scripts) from the first visit to the
  // evaluator's progress chart, as it crossed the wire (compressed), API answers aside.
  const context = await browser.newContext();
  const page = await context.newPage();
  const sizes = [];
  page.on('requestfinished', async (r) => {
    if (!new URL(r.url()).pathname.startsWith('/console/')) return;
    const s = await r.sizes();
    sizes.push(s.responseBodySize + s.responseHeadersSize);
  });
  await login(page, server.base, 'evaluator@demo.assist');
  await page.waitForSelector('svg.chart', { state: 'attached' });
  await page.waitForLoadState('networkidle');
  const total = sizes.reduce((a, b) => a + b, 0);
  console.log(`first load of /console/: ${total} bytes compressed over ${sizes.length} requests`);
  assert.ok(sizes.length >= 8, 'the page and its modules were loaded');
  assert.ok(total < 300 * 1024, `${total} bytes`);
  await context.close();
});

test('the assets are compressed, tagged and revalidated', async () => {
  const r = await fetch(`${server.base}/console/js/verify.js`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/javascript/);
  assert.equal(r.headers.get('content-encoding'), 'gzip');
  const tag = r.headers.get('etag');
  assert.ok(tag);
  const again = await fetch(`${server.base}/console/js/verify.js`, { headers: { 'if-none-match': tag } });
  assert.equal(again.status, 304);
  assert.equal((await fetch(`${server.base}/console/nope.js`)).status, 404);
  assert.equal((await fetch(`${server.base}/console`, { redirect: 'manual' })).status, 308);
});

test('each role sees its pages and not the others', async () => {
  for (const [email, pages] of Object.entries(NAV)) {
    const { context, page, errors } = await as(email);
    const nav = await page.$$eval('#nav-list a', (as) => as.map((a) => a.getAttribute('href').slice(2)));
    assert.deepEqual(nav, pages, email);
    for (const p of ALL_PAGES.filter((x) => !pages.includes(x))) {
      await page.goto(`${server.base}/console/#/${p}`);
      await page.waitForFunction((p) => !location.hash.startsWith(`#/${p}`), p);
      assert.ok(!page.url().includes(`#/${p}`), `${email} was let into ${p}`);
    }
    for (const p of pages) {
      await page.goto(`${server.base}/console/#/${p}`);
      await waitLoaded(page);
      assert.equal(await page.locator('main .error').count(), 0, `${email} ${p}: ${await page.locator('main').innerText()}`);
    }
    assert.deepEqual(errors, [], email);
    await context.close();
  }
});

test("a unit's page links to its ledger only for roles that have the ledger page", async () => {
  const supervisor = await apiAs(server.base, 'supervisor@demo.assist');
  const units = (await supervisor.get(`/supervision/${YEAR}/units`)).body.units;
  assert.ok(units.length, 'the supervisor has a unit');
  const id = units[0].org_id;
  for (const [email, linked] of [['supervisor@demo.assist', 0], ['evaluator@demo.assist', 1]]) {
    const { context, page, errors } = await as(email);
    await page.goto(`${server.base}/console/#/progress/unit/${id}?year=${YEAR}`);
    await waitLoaded(page);
    await page.waitForSelector('main h2');
    assert.equal(await page.locator(`main a[href="#/ledger?buyer=${id}"]`).count(), linked, email);
    assert.deepEqual(errors, [], email);
    await context.close();
  }
});

test("the chart's plotted values equal the API's", async () => {
  const { context, page } = await as('evaluator@demo.assist');
  const api = await apiAs(server.base, 'evaluator@demo.assist');
  const summary = (await api.get(`/reports/summary?year=${YEAR}&group_by=month`)).body;
  const units = (await api.get(`/supervision/${YEAR}/units`)).body;
  // The login lands on this page too: let it finish, then wait for the page the year's link
  // draws (the landing one is detached when it starts), so its chart is the one read.
  await waitLoaded(page);
  const landing = await page.$('main .page');
  await page.goto(`${server.base}/console/#/progress?year=${YEAR}`);
  await page.waitForFunction((old) => (!old || !old.isConnected)
    && document.querySelectorAll('main .page svg.chart rect.bar').length === 12, landing);
  const bars = await page.$$eval('svg.chart rect.bar', (rs) => rs.map((r) => [Number(r.dataset.month), r.dataset.credited]));
  assert.equal(bars.length, 12);
  let cum = 0;
  for (const [m, v] of bars) {
    const row = summary.rows.find((r) => Number(r.key) === m);
    assert.equal(v, row ? row.total : '0.00', `month ${m}`);
    cum += Number(v);
  }
  assert.ok(cum > 0, 'the demo has credited amounts');
  const last = await page.$eval('svg.chart .cumulative circle[data-month="12"]', (c) => c.dataset.cumulative);
  assert.equal(last, summary.totals.total);
  const target = units.units.reduce((a, u) => a + Number(u.target || 0), 0);
  const pace12 = await page.$eval('svg.chart .pace circle[data-month="12"]', (c) => Number(c.dataset.pace));
  assert.equal(pace12.toFixed(2), target.toFixed(2));
  const tableRows = await page.$$eval('table.compact tbody tr', (rs) => rs.length);
  assert.equal(tableRows, 12);
  const names = await page.$$eval('[data-org] a', (as) => as.map((a) => a.textContent));
  assert.ok(names.includes(units.units[0].name));
  await page.click(`[data-org="${units.units[0].org_id}"] a`);
  await page.waitForSelector('h1:has-text("单位详情")');
  await context.close();
});

test('an XLSX downloads from the progress page', async () => {
  const { context, page } = await as('evaluator@demo.assist');
  await page.goto(`${server.base}/console/#/progress?year=${YEAR}`);
  await page.waitForSelector(`button[data-export="units-${YEAR}.xlsx"]`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(`button[data-export="units-${YEAR}.xlsx"]`)]);
  const bytes = readFileSync(await download.path());
  assert.equal(bytes.subarray(0, 2).toString(), 'PK');
  assert.equal(download.suggestedFilename(), `units-${YEAR}.xlsx`);
  await context.close();
});

let certifierCalls = [];
test('a certified product shows in the catalogue', async () => {
  const id = await pendingProduct(server.base, `控制台测试小米 ${Date.now()}`, '9.20');
  const { context, page, calls } = await as('certifier@demo.assist');
  await page.goto(`${server.base}/console/#/certification`);
  const card = page.locator(`li[data-product="${id}"]`);
  await card.waitFor();
  assert.ok(await card.locator('[data-price-flag]').count(), 'the price check is shown');
  await card.locator('button.primary').click();
  await page.waitForSelector(`li[data-product="${id}"] .ok[role=status]`);
  const catalog = await fetch(`${server.base}/api/v1/catalog?limit=200`).then((r) => r.json());
  assert.ok(catalog.items.some((p) => p.id === id || p.product_id === id), 'the product is in the catalogue');
  certifierCalls = calls.filter((c) => c.method === 'POST');
  await context.close();
});

let buyerCalls = [];
test('an accepted delivery is in the ledger with a verified mark', async () => {
  const { so, buyer, supplier } = await deliveredOrder(server.base, '10');
  const { context, page, calls } = await as('buyer@demo.assist');
  await page.goto(`${server.base}/console/#/deliveries`);
  const card = page.locator(`li[data-order="${so}"]`);
  await card.waitFor();
  await card.locator('input[name=invoice_number]').fill('INV-CONSOLE-1');
  await card.locator('form.accept button[type=submit]').click();
  await page.waitForSelector(`li[data-order="${so}"] a[href^="#/ledger"]`);
  // The supplier invoices; the buyer records a payment, then rates the supplier.
  const invoice = await supplier.post(`/supplier-orders/${so}/invoices`,
    { number: 'INV-CONSOLE-1', amount: '88.00', issued_on: new Date().toISOString().slice(0, 10) });
  assert.equal(invoice.status, 201, invoice.text);
  await page.reload();
  const accepted = page.locator(`li[data-order="${so}"]`);
  await accepted.locator('form.pay').waitFor();
  await accepted.locator('input[name=amount]').fill('88.00');
  await accepted.locator('input[name=reference]').fill('BANK-CONSOLE-1');
  await accepted.locator('form.pay button[type=submit]').click();
  await page.waitForFunction((so) => {
    const card = document.querySelector(`li[data-order="${so}"]`);
    return card && (card.querySelector('.error') || card.textContent.includes('已付 ¥88.00'));
  }, so);
  assert.equal(await accepted.locator('.error').count(), 0, await accepted.innerText());
  const payments = await buyer.get(`/supplier-orders/${so}/payments`);
  assert.equal(payments.status, 200, payments.text);
  assert.equal((payments.body.items || payments.body).length, 1, payments.text);
  await page.locator(`li[data-order="${so}"] form.rate button[type=submit]`).click();
  await page.waitForSelector(`li[data-order="${so}"] form.rate .ok`);
  assert.equal((await buyer.get(`/supplier-orders/${so}/rating`)).status, 200);
  let entry;
  for (let i = 0; i < 50 && !(entry && entry.seq); i++) {
    const list = await buyer.get(`/ledger?limit=200`);
    entry = list.body.items.find((e) => e.supplier_order_id === so);
    if (!(entry && entry.seq)) await new Promise((r) => setTimeout(r, 300));
  }
  assert.ok(entry && entry.seq, 'the entry was sequenced');
  let state = null;
  for (let i = 0; i < 20 && state !== 'verified'; i++) {
    await page.goto(`${server.base}/console/#/ledger?supplier=${entry.supplier_org_id}&r=${i}`);
    const mark = page.locator(`tr[data-entry="${entry.id}"] [data-verify]`);
    await mark.waitFor();
    await page.waitForFunction((id) => {
      const m = document.querySelector(`tr[data-entry="${id}"] [data-verify]`);
      return m && (m.dataset.verify !== 'pending' || m.parentElement.title);
    }, entry.id, { timeout: 10000 });
    state = await mark.getAttribute('data-verify');
    if (state !== 'verified') await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(state, 'verified');
  assert.equal(await page.locator('[data-verify="failed"]').count(), 0);
  buyerCalls = calls.filter((c) => c.method === 'POST' || c.url.includes('/ledger/entries/'));
  await context.close();
});

test('the ledger totals equal the summary report', async () => {
  const { context, page } = await as('evaluator@demo.assist');
  await page.goto(`${server.base}/console/#/ledger?year=${YEAR}`);
  await page.waitForSelector('[data-totals-equal]');
  assert.equal(await page.getAttribute('[data-totals-equal]', 'data-totals-equal'), 'true');
  await context.close();
});

test('an entry listed with fields its leaf does not hold is marked failed', async () => {
  const { context, page } = await as('evaluator@demo.assist');
  // A service that lists an entry's quantity, and another's buyer, other than what was hashed.
  const bent = {};
  await context.route((u) => u.pathname === '/api/v1/ledger', async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    const credits = body.items.filter((e) => e.seq && e.kind === 'credit');
    if (credits.length >= 3) {
      credits[0].quantity = `9${credits[0].quantity}`;
      credits[1].buyer_org_id = credits[2].buyer_org_id === credits[1].buyer_org_id
        ? credits[1].supplier_org_id : credits[2].buyer_org_id;
      bent.quantity = credits[0].id;
      bent.buyer = credits[1].id;
      bent.honest = credits[2].id;
    }
    return route.fulfill({ response, json: body });
  });
  await page.goto(`${server.base}/console/#/ledger?year=${YEAR}`);
  const settled = async (id) => {
    await page.waitForFunction((id) => {
      const m = document.querySelector(`tr[data-entry="${id}"] [data-verify]`);
      return m && m.dataset.verify !== 'pending';
    }, id, { timeout: 15000 });
    return page.locator(`tr[data-entry="${id}"] [data-verify]`).getAttribute('data-verify');
  };
  await page.waitForSelector('tr[data-entry]');
  assert.ok(bent.honest, 'the page lists three sequenced credits');
  assert.equal(await settled(bent.quantity), 'failed');
  assert.equal(await settled(bent.buyer), 'failed');
  assert.equal(await settled(bent.honest), 'verified');
  await context.close();
});

test("one role's requests replayed with another role's token are refused", async () => {
  const { context, calls } = await as('evaluator@demo.assist');
  const p = context.pages()[0];
  await p.goto(`${server.base}/console/#/progress?year=${YEAR}`);
  await p.waitForSelector('svg.chart');
  const evaluatorCalls = calls.filter((c) => c.url.includes('/supervision/'));
  await context.close();
  const replays = [
    ...evaluatorCalls.map((c) => ['buyer@demo.assist', c]),
    ...certifierCalls.map((c) => ['buyer@demo.assist', c]),
    ...certifierCalls.map((c) => ['certifier.pingquan@demo.assist', c]),
    ...buyerCalls.map((c) => ['buyer.union@demo.assist', c]),
    ...buyerCalls.map((c) => ['supplier.pingquan@demo.assist', c]),
  ];
  assert.ok(evaluatorCalls.length && certifierCalls.length && buyerCalls.length, 'requests were recorded');
  for (const [email, c] of replays) {
    const other = await apiAs(server.base, email);
    const r = await other.call(c.method, c.url, c.body ? JSON.parse(c.body) : undefined,
      c.method === 'POST' && c.url.endsWith('/payments') ? {} : {});
    assert.ok([403, 404].includes(r.status), `${email} ${c.method} ${c.url}: ${r.status}`);
  }
});

test('axe-core finds no serious or critical violation on any page', async () => {
  const axe = readFileSync(AXE_PATH, 'utf8');
  for (const [email, pages] of Object.entries(NAV)) {
    const { context, page } = await as(email, { axe: true });
    for (const p of [...pages, 'login']) {
      if (p === 'login') {
        await page.evaluate(() => sessionStorage.clear());
        await page.goto(`${server.base}/console/#/login`);
        await page.waitForSelector('form.login');
      } else {
        await page.goto(`${server.base}/console/#/${p}`);
        await waitLoaded(page);
      }
      await page.addScriptTag({ content: axe });
      const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
      const bad = result.violations.filter((v) => ['serious', 'critical'].includes(v.impact));
      assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`), [],
        `${email} ${p}`);
      if (p === 'login') break;
    }
    await context.close();
  }
});

test('pages fit a 390-pixel phone screen and 200 % zoom', async () => {
  const { context, page } = await as('evaluator@demo.assist', { context: { viewport: { width: 390, height: 800 } } });
  for (const p of NAV['evaluator@demo.assist']) {
    await page.goto(`${server.base}/console/#/${p}`);
    await waitLoaded(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${p} overflows by ${overflow}px`);
  }
  await context.close();
  // 200 % zoom of a 1280-pixel window is a 640-pixel layout viewport at device scale 2.
  const zoomed = await as('evaluator@demo.assist', { context: { viewport: { width: 640, height: 480 }, deviceScaleFactor: 2 } });
  await zoomed.page.goto(`${server.base}/console/#/ledger`);
  await waitLoaded(zoomed.page);
  assert.ok(await zoomed.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1));
  await zoomed.context.close();
});

test('an expired session goes to login and back to the same page', async () => {
  const { context, page } = await as('evaluator@demo.assist');
  await page.goto(`${server.base}/console/#/ledger?year=${YEAR}`);
  await waitLoaded(page);
  await page.evaluate(() => {
    const k = 'assist.console.session';
    const s = JSON.parse(sessionStorage.getItem(k));
    sessionStorage.setItem(k, JSON.stringify({ ...s, access_token: 'expired', refresh_token: 'expired' }));
  });
  await page.goto(`${server.base}/console/#/alerts`);
  // (A request of the ledger page still in flight may have shown the login form already.)
  await page.waitForFunction(() => location.hash.startsWith('#/login') && document.querySelector('form.login'));
  await page.waitForFunction(() => location.hash.includes('next=%23%2Falerts'), null, { timeout: 5000 })
    .catch(() => assert.fail(page.url()));
  await page.fill('input[name=email]', 'evaluator@demo.assist');
  await page.fill('input[name=password]', 'demo-pass-2026');
  await page.click('form.login button[type=submit]');
  await page.waitForFunction(() => location.hash === '#/alerts');
  await context.close();
});

test('the language switch shows English', async () => {
  const { context, page } = await as('evaluator@demo.assist');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  await page.click('#lang');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.ok((await page.textContent('#nav-list')).includes('Progress'));
  await context.close();
});

test('the vendored @noble/ed25519 is the npm package, with its licence', () => {
  const pkg = (f) => readFileSync(new URL(`../tools/node_modules/@noble/ed25519/${f}`, import.meta.url));
  const ours = (f) => readFileSync(new URL(`../../api/console/vendor/${f}`, import.meta.url));
  assert.ok(ours('noble-ed25519.js').equals(pkg('index.js')), 'api/console/vendor/noble-ed25519.js is index.js of the pinned package');
  assert.ok(ours('noble-ed25519.LICENSE').equals(pkg('LICENSE')));
});

test('a county office rejects with a note and revokes with a reason', async () => {
  const make = (name) => pendingProduct(server.base, name, '8.90');
  const rejected = await make(`驳回测试 ${Date.now()}`);
  const revoked = await make(`撤销测试 ${Date.now()}`);
  const certifier = await apiAs(server.base, 'certifier@demo.assist');
  const until = new Date(Date.now() + 365 * 864e5).toISOString().slice(0, 10);
  assert.equal((await certifier.post(`/products/${revoked}/certify`, { valid_until: until })).status, 200);
  const { context, page } = await as('certifier@demo.assist');
  await page.goto(`${server.base}/console/#/certification`);
  const card = page.locator(`li[data-product="${rejected}"]`);
  await card.locator('button.danger').click();
  await card.locator('[role=alert]').waitFor(); // a rejection needs a note: nothing sent
  assert.equal((await certifier.get(`/products/${rejected}`)).body.status, 'pending_review');
  await card.locator('textarea[name=note]').fill('样品水分超标');
  await card.locator('button.danger').click();
  await page.waitForSelector(`li[data-product="${rejected}"] .ok[role=status]`);
  assert.equal((await certifier.get(`/products/${rejected}`)).body.status, 'rejected');
  const rev = page.locator(`li[data-product="${revoked}"]`);
  await rev.locator('input[name=reason]').fill('抽检不合格');
  await rev.locator('button.danger').click();
  await page.waitForSelector(`li[data-product="${revoked}"] .ok[role=status]`);
  assert.equal((await certifier.get(`/products/${revoked}`)).body.status, 'revoked');
  const catalog = await fetch(`${server.base}/api/v1/catalog?limit=200`).then((r) => r.json());
  assert.ok(!catalog.items.some((p) => p.id === revoked), 'a revoked product leaves the catalogue');
  await context.close();
});

test('the pages work from the keyboard', async () => {
  const { context, page } = await as('evaluator@demo.assist');
  await page.goto(`${server.base}/console/#/progress`);
  await page.reload();
  await waitLoaded(page);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'skip-link');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
  // From the navigation, Enter on a link opens its page.
  await page.focus('#nav-list a[href="#/ledger"]');
  await page.keyboard.press('Enter');
  await page.waitForSelector('form.filters');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
  // The filters submit with Enter.
  await page.focus('form.filters input[name=county]');
  await page.keyboard.type('130727');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => location.hash.includes('county=130727'));
  await context.close();
});

test("a buyer's progress shows its own slice as the report does", async () => {
  const { context, page } = await as('buyer.agency@demo.assist');
  const api = await apiAs(server.base, 'buyer.agency@demo.assist');
  const byBuyer = (await api.get(`/reports/summary?year=${YEAR}&group_by=buyer`)).body;
  const byMonth = (await api.get(`/reports/summary?year=${YEAR}&group_by=month`)).body;
  await page.goto(`${server.base}/console/#/progress?year=${YEAR}`);
  await page.waitForSelector('#children-h');
  await page.waitForSelector('svg.chart .cumulative circle[data-month="12"]', { state: 'attached' });
  const last = await page.$eval('svg.chart .cumulative circle[data-month="12"]', (c) => c.dataset.cumulative);
  assert.equal(last, byMonth.totals.total);
  const rows = await page.$$eval('section[aria-labelledby=children-h] tbody tr', (rs) => rs.length);
  assert.equal(rows, Math.max(1, Math.min(20, byBuyer.rows.length)));
  await context.close();
});
