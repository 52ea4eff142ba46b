// Every link of every email Signet sent during the other journeys (and the few kinds they
// do not cause, caused here), each opened once, opens a portal page that works: a 200 document, a heading,
// never "page not found", no error in the console; each kind of link is covered.
import { outbox, linksOf, expect } from '../lib.mjs';

/** Each path an email links to, as a pattern; every one must be seen. */
const KINDS = [
  ['/signup/verify', /^\/signup\/verify$/], ['/signup', /^\/signup$/], ['/login', /^\/login$/],
  ['/password/forgot', /^\/password\/forgot$/], ['/password/reset', /^\/password\/reset$/],
  ['/activation', /^\/activation$/], ['/account/email/verify', /^\/account\/email\/verify$/],
  ['/account/alternate-email/verify', /^\/account\/alternate-email\/verify$/], ['/invitation', /^\/invitation$/],
  ['/organisation/members', /^\/organisation\/members$/], ['/login/enrol', /^\/login\/enrol$/],
  ['/subscriptions/{id}/renew', /^\/subscriptions\/[^/]+\/renew$/], ['/invoices/{number}', /^\/invoices\/[^/]+$/],
];

async function api(base, path, body) {
  const response = await fetch(`${base}/api${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status < 300, `${path}: ${response.status}`);
}

export default async function emailLinks(j, base, browser) {
  // The emails no journey causes: a sign-up for an address with an account, a forgotten
  // password for an address without one.
  await api(base, '/signup', { email: 'member.new@example.com' });
  await api(base, '/password/forgot', { email: 'nobody@example.com', locale: 'fr' }).catch(() => api(base, '/password/forgot', { email: 'nobody@example.com' }));
  const messages = (await outbox(base)).filter((m) => m.channel === 'email');
  const seen = new Map();
  const links = new Set();
  let opened = 0;
  for (const message of messages) {
    for (const link of linksOf(message, base)) {
      const path = new URL(link).pathname;
      const kind = KINDS.find(([, pattern]) => pattern.test(path));
      expect(kind, `an email links to ${path}, which no portal page serves (${message.subject})`);
      // Every link, each once; a screenshot of the first two of each kind.
      if (links.has(link)) continue;
      links.add(link);
      seen.set(kind[0], (seen.get(kind[0]) || 0) + 1);
      const context = await browser.newContext({ locale: message.language === 'fr' ? 'fr-FR' : 'en-GB' });
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const response = await page.goto(link);
      expect(response.status() === 200, `${link}: ${response.status()}`);
      const heading = page.getByRole('heading', { level: 1 });
      await heading.waitFor();
      const title = await heading.textContent();
      expect(!/Page not found|Page introuvable/.test(title), `${link}: ${title}`);
      expect(!errors.length, `${link}: ${errors.join('; ')}`);
      j.page = page;
      if (seen.get(kind[0]) <= 2) await j.shot(kind[0].replace(/[^a-z]+/g, '-').replace(/^-|-$/g, '') || 'root');
      else await j.axe(kind[0]);
      opened += 1;
      await context.close();
    }
  }
  const missing = KINDS.map(([name]) => name).filter((name) => !seen.has(name));
  expect(!missing.length, `no email linked to: ${missing.join(', ')}`);
  console.log(`      ${opened} links of ${messages.length} emails opened; every kind seen`);
}
