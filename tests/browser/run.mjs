// Runs every journey of the portal headless in Debian's chromium against a local server of
// its own, with the demo data; screenshots under target/portal-screenshots/<journey>/.
// Exits non-zero when a journey fails, a page has a serious or critical axe-core violation,
// or a page logs an error.
import { startServer, launch, Journey, SHOTS } from './lib.mjs';

const JOURNEYS = [
  ['demo-member-en', './journeys/demo_member.mjs', {}],
  ['account-phone-size', './journeys/account_phone.mjs', { viewport: { width: 390, height: 844 } }],
  ['organisation-fr-en', './journeys/organisation.mjs', {}],
  ['signup-fr-keyboard', './journeys/signup_keyboard_fr.mjs', { locale: 'fr-FR' }],
  // Last: the emails of every journey before it.
  ['email-links', './journeys/email_links.mjs', {}],
];

const only = process.argv[2];
const server = await startServer(Number(process.env.SIGNET_PORTAL_PORT || 3917));
const browser = await launch();
let failed = 0;
try {
  for (const [name, module, options] of JOURNEYS) {
    if (only && !name.includes(only)) continue;
    const context = await browser.newContext({ locale: options.locale || 'en-GB', viewport: options.viewport || { width: 1280, height: 900 } });
    const page = await context.newPage();
    const journey = new Journey(name, page);
    const started = Date.now();
    try {
      const run = (await import(module)).default;
      await run(journey, server.base, browser);
      if (journey.violations.length) throw new Error(`axe-core:\n  ${journey.violations.join('\n  ')}`);
      if (journey.errors.length) throw new Error(`errors:\n  ${journey.errors.join('\n  ')}`);
      console.log(`ok    ${name} (${journey.step} steps, ${Date.now() - started} ms)`);
    } catch (error) {
      failed += 1;
      await page.screenshot({ path: `${journey.dir}/failure.png`, fullPage: true }).catch(() => {});
      const shown = await page.locator('.alert:visible, .error:visible, .notice:visible').allTextContents().catch(() => []);
      console.log(`FAIL  ${name} at ${page.url()}: ${error.stack || error}\n  the page says: ${shown.filter(Boolean).join(' | ')}`);
    }
    await context.close();
  }
} finally {
  await browser.close();
  server.stop();
}
console.log(`screenshots: ${SHOTS}`);
process.exit(failed ? 1 : 0);
