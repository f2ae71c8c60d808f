// Writes a PNG of each console page under docs/console/ (run by `tests/console/screenshots`,
// not by CI). The demo data of a fresh embedded database, one delivery left awaiting
// acceptance and one product pending review, so every page has something to show.
import { mkdirSync } from 'node:fs';
import { startServer, launch, apiAs, login } from './lib.mjs';

const OUT = new URL('../../docs/console/', import.meta.url).pathname;
const SHOTS = [
  ['evaluator@demo.assist', 'progress', 'progress.png'],
  ['evaluator@demo.assist', 'ledger', 'ledger.png'],
  ['evaluator@demo.assist', 'alerts', 'alerts.png'],
  ['certifier@demo.assist', 'certification', 'certification.png'],
  ['buyer@demo.assist', 'deliveries', 'deliveries.png'],
];

async function prepare(base) {
  const buyer = await apiAs(base, 'buyer@demo.assist');
  const supplier = await apiAs(base, 'supplier@demo.assist');
  const catalog = await fetch(`${base}/api/v1/catalog?limit=200`).then((r) => r.json());
  const product = catalog.items.find((p) => p.name === '阳原小米');
  const placed = await buyer.post('/orders', {
    lines: [{ product_id: product.id, quantity: '20' }], credit_category: 'purchase', deliver_to: '省直机关第一食堂',
    requested_date: new Date(Date.now() + 3 * 864e5).toISOString().slice(0, 10),
  }, { 'Idempotency-Key': crypto.randomUUID() });
  const so = placed.body.supplier_orders[0].id;
  for (const a of ['confirm', 'ship', 'deliver']) await supplier.post(`/supplier-orders/${so}/${a}`);
  const created = await supplier.post('/products', {
    name: '阳原黄小米（新季）', category: 'grain', unit: 'kg', price: '12.80', min_order_qty: '10',
    origin_region_code: '130727100201', description: 'new-season yellow millet', shelf_life_days: 365,
    supply_capacity_per_month: '2000', certificates: [], poor_households_linked: 12, benefit_mechanism: '保底收购',
  });
  await supplier.post(`/products/${created.body.id}/submit`);
  await new Promise((r) => setTimeout(r, 3000)); // the sequencer signs a checkpoint
}

const server = await startServer();
const browser = await launch();
try {
  mkdirSync(OUT, { recursive: true });
  await prepare(server.base);
  for (const [email, page, file] of SHOTS) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await context.newPage();
    await login(p, server.base, email);
    await p.goto(`${server.base}/console/#/${page}`);
    await p.waitForFunction(() => !document.querySelector('main .status[role=status]'), null, { timeout: 20000 });
    await p.waitForTimeout(1500);
    await p.screenshot({ path: OUT + file, fullPage: true });
    await context.close();
  }
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
  const p = await phone.newPage();
  await login(p, server.base, 'evaluator@demo.assist');
  await p.waitForSelector('svg.chart', { state: 'attached' });
  await p.waitForTimeout(500);
  await p.screenshot({ path: OUT + 'progress-phone.png' });
  await phone.close();
  console.log(`screenshots written to ${OUT}`);
} finally {
  await browser.close();
  await server.stop();
}
