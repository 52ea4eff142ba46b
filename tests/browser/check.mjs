// The portal's static checks (no build step, so nothing else catches these): every module
// parses; every word a page asks for exists in English and in French; no token storage, no
// HTML parsed from strings, no inline script; no unused import.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT } from './paths.mjs';

const PORTAL = join(ROOT, 'portal');
/** Every file below `dir` (the repository's build and package folders left out). */
function filesBelow(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'target' || name === 'node_modules') return [];
    return statSync(path).isDirectory() ? filesBelow(path) : [path];
  });
}

const files = filesBelow(PORTAL);
const problems = [];
const scripts = files.filter((f) => f.endsWith('.js'));
for (const file of scripts) {
  const parsed = spawnSync(process.execPath, ['--experimental-default-type=module', '--check', file], { encoding: 'utf8' });
  if (parsed.status !== 0) problems.push(`${relative(ROOT, file)} does not parse:\n${parsed.stderr}`);
}

const { WORDS } = await import(join(PORTAL, 'lib', 'words.js'));
for (const [key, entry] of Object.entries(WORDS)) {
  if (!entry.en?.trim() || !entry.fr?.trim()) problems.push(`words: ${key} lacks a language`);
  const vars = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join();
  if (vars(entry.en) !== vars(entry.fr)) problems.push(`words: ${key} has different placeholders in English and French`);
}
// The keys of every page: t('…'), and the label/hint/submit keys of forms and sections.
const used = new Set();
const prefixes = new Set();
for (const file of scripts) {
  const source = readFileSync(file, 'utf8');
  for (const m of source.matchAll(/\bt\('([a-z_.]+)'/g)) used.add(m[1]);
  for (const m of source.matchAll(/\b(?:label|hint|submit|submitLabel): '([a-z_.]+)'/g)) used.add(m[1]);
  for (const m of source.matchAll(/\b(?:section|action|page)\('([a-z_.]+)'/g)) used.add(m[1]);
  for (const m of source.matchAll(/[`(]([a-z_]+\.[a-z_]*)\$\{/g)) prefixes.add(m[1]);
  for (const m of source.matchAll(/\blabel: `([a-z_]+\.)\$\{/g)) prefixes.add(m[1]);
  if (/localStorage|document\.cookie|innerHTML|outerHTML|insertAdjacentHTML|eval\(|new Function/.test(source)) {
    problems.push(`${relative(ROOT, file)}: stores a token or parses HTML from a string`);
  }
  const imported = [...source.matchAll(/^import \{([^}]*)\}/gm)].flatMap((m) => m[1].split(',').map((n) => n.trim().split(' as ').pop())).filter(Boolean);
  const body = source.replace(/^import .*$/gm, '');
  for (const name of imported) {
    if (!new RegExp(`\\b${name}\\b`).test(body) && !new RegExp(`export \\{[^}]*\\b${name}\\b`).test(source)) {
      problems.push(`${relative(ROOT, file)}: ${name} is imported and not used`);
    }
  }
}
for (const key of used) if (!(key in WORDS)) problems.push(`words: ${key} is used and missing`);
for (const prefix of prefixes) {
  if (!Object.keys(WORDS).some((k) => k.startsWith(prefix))) problems.push(`words: nothing starts with ${prefix}`);
}
for (const key of Object.keys(WORDS)) {
  const dynamic = [...prefixes].some((p) => key.startsWith(p));
  const literal = scripts.some((f) => readFileSync(f, 'utf8').includes(`'${key}'`));
  if (!dynamic && !literal) problems.push(`words: ${key} is never used`);
}
// Every path Signet's code links to in an email (`portal_link`) is a page of the portal's router.
const routes = [...readFileSync(join(PORTAL, 'app.js'), 'utf8').matchAll(/^\s*\[\/(\^.*?\$)\/, '/gm)].map((m) => new RegExp(m[1]));
const linked = new Set();
for (const file of [...filesBelow(join(ROOT, 'shared', 'src')), ...filesBelow(join(ROOT, 'functions'))]) {
  if (!file.endsWith('.rs')) continue;
  for (const m of readFileSync(file, 'utf8').matchAll(/portal_link\((?:&format!\()?"([^"?]+)/g)) linked.add(m[1].replace(/\{[^}]*\}/g, 'x'));
}
if (linked.size < 10) problems.push(`only ${linked.size} linked paths found in the Rust code: the scan is broken`);
for (const path of linked) {
  if (!routes.some((r) => r.test(path))) problems.push(`the code links to ${path}, which no portal page serves`);
}
const html = readFileSync(join(PORTAL, 'index.html'), 'utf8');
if (/<script(?![^>]*\bsrc=)[^>]*>/.test(html) || /\son[a-z]+=/.test(html) || /style=/.test(html)) {
  problems.push('index.html: inline script, handler or style (the CSP refuses them)');
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`portal checks: ${scripts.length} modules parse, ${Object.keys(WORDS).length} words in English and French, ${used.size} used by name, ${linked.size} linked paths all served`);
