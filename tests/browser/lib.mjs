// What every browser journey shares: the local server (a fresh data directory, the demo
// data, a port of its own), Debian's chromium driven by playwright-core, the outbox (codes
// and links), a screenshot of each step and axe-core on each page.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { ROOT } from './paths.mjs';

const require = createRequire(import.meta.url);
export const SHOTS = process.env.SIGNET_SCREENSHOTS || join(ROOT, 'target', 'portal-screenshots');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const DEMO_PASSWORD = 'demo portal password 2026';

/** Starts the local server on `port` with the demo data; resolves once it answers. */
export async function startServer(port) {
  const bin = process.env.SIGNET_LOCAL_BIN || join(ROOT, 'target', 'debug', 'signet-local');
  const dataDir = mkdtempSync(join(tmpdir(), 'signet-portal-'));
  const child = spawn(bin, ['--demo', '--port', String(port), '--data-dir', dataDir, '--portal-dir', join(ROOT, 'portal')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
  });
  let log = '';
  child.stderr.on('data', (chunk) => { log += chunk; });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`signet-local exited:\n${log}`);
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    log: () => log,
    stop: () => { child.kill('SIGTERM'); rmSync(dataDir, { recursive: true, force: true }); },
  };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.SIGNET_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** The outbox of the local server, newest first. */
export async function outbox(base) {
  return (await fetch(`${base}/_dev/outbox.json?limit=1000`)).json();
}

const digits = (s) => s.replace(/\D/g, '');

/** The newest message to `to` (an address, or a phone number in any format) after `since` (an outbox id), waiting for it. */
export async function lastTo(base, to, { since = 0, subject = null } = {}) {
  for (let i = 0; i < 50; i++) {
    const found = (await outbox(base)).find((m) => m.id > since
      && (m.to === to || (digits(to).length > 6 && digits(m.to) === digits(to)))
      && (!subject || (m.subject || '').match(subject)));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing sent to ${to}${subject ? ` (${subject})` : ''}`);
}

export async function newestId(base) {
  return (await outbox(base))[0]?.id || 0;
}

export const codeOf = (message) => message.body.match(/\b(\d{6})\b/)[1];
export const linksOf = (message, base) => (message.body.match(/https?:\/\/[^\s<>"')]+/g) || []).filter((l) => l.startsWith(base));
export const linkOf = (message, base, path) => {
  const found = linksOf(message, base).find((l) => new URL(l).pathname.startsWith(path));
  if (!found) throw new Error(`no ${path} link in: ${message.body}`);
  return found;
};

/** A journey's pages: a screenshot per step, axe-core on each, every console error kept. */
export class Journey {
  constructor(name, page) {
    this.name = name;
    this.page = page;
    this.step = 0;
    this.violations = [];
    this.errors = [];
    this.dir = join(SHOTS, name);
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    page.on('pageerror', (e) => this.errors.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) this.errors.push(`console: ${m.text()}`);
    });
  }

  /** Waits for the page to settle, checks it with axe-core, and keeps a screenshot. */
  async shot(label) {
    await this.page.waitForLoadState('networkidle');
    await this.page.waitForTimeout(100);
    await this.axe(label);
    this.step += 1;
    const file = join(this.dir, `${String(this.step).padStart(2, '0')}-${label}.png`);
    await this.page.screenshot({ path: file, fullPage: true });
  }

  async axe(label) {
    await this.page.evaluate(AXE);
    const result = await this.page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    for (const v of result.violations) {
      if (v.impact === 'serious' || v.impact === 'critical') {
        this.violations.push(`${label}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
      }
    }
  }
}

export function expect(condition, message) {
  if (!condition) throw new Error(message);
}
