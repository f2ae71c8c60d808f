// Writes a PNG of each console page under docs/console/ (run by `tests/console/screenshots`,
// not by CI). The demo data of a fresh embedded database, one delivery left awaiting
// acceptance, a weighed one shipped from two lots with their 合格证, one product pending
// review and two price outliers flagged, so every page has something to show.
import { mkdirSync } from 'node:fs';
import { startServer, launch, login, deliveredOrder, pendingProduct, weighedDelivery, outlierCredits } from './lib.mjs';

const OUT = new URL('../../docs/console/', import.meta.url).pathname;
const SHOTS = [
  ['evaluator@demo.assist', 'progress', 'progress.png'],
  ['evaluator@demo.assist', 'ledger', 'ledger.png'],
  ['evaluator@demo.assist', 'alerts', 'alerts.png'],
  ['certifier@demo.assist', 'certification', 'certification.png'],
  ['buyer@demo.assist', 'deliveries', 'deliveries.png'],
  ['evaluator@demo.assist', 'flags', 'flags.png'],
];

let traced;
async function prepare(base) {
  await deliveredOrder(base, '20');
  traced = (await weighedDelivery(base, '24.35', '100', 10, 2)).lots[0].id;
  await pendingProduct(base, '阳原黄小米（新季）', '12.80');
  await outlierCredits(base, '1.00', 2);
  await new Promise((r) => setTimeout(r, 3000)); // the sequencer signs a checkpoint
}

const server = await startServer();
const browser = await launch();
try {
  mkdirSync(OUT, { recursive: true });
  await prepare(server.base);
  for (const [email, page, file] of [...SHOTS, ['buyer@demo.assist', `trace/${traced}`, 'trace.png']]) {
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
