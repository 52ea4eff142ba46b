// The portal: one page, routed in the browser. Every path Signet emails is a route here.
import { t, lang, setLang, preferLang } from './lib/i18n.js';
import { h, link, page, append, describe } from './lib/ui.js';
import * as session from './lib/session.js';

// [pattern, module, export, needs a session]
const ROUTES = [
  [/^\/$/, 'dashboard', 'home', false],
  [/^\/signup$/, 'signup', 'start', false],
  [/^\/signup\/verify$/, 'signup', 'verify', false],
  [/^\/login$/, 'auth', 'login', false],
  [/^\/login\/enrol$/, 'auth', 'enrol', false],
  [/^\/password\/forgot$/, 'auth', 'forgotPassword', false],
  [/^\/password\/reset$/, 'auth', 'resetPassword', false],
  [/^\/identifier\/forgot$/, 'auth', 'forgotIdentifier', false],
  [/^\/dashboard$/, 'dashboard', 'dashboard', true],
  [/^\/subscriptions\/([^/]+)\/recover$/, 'dashboard', 'recover', true],
  [/^\/subscriptions\/([^/]+)\/pin$/, 'dashboard', 'pinReset', true],
  [/^\/activation$/, 'dashboard', 'activation', true],
  [/^\/subscriptions\/([^/]+)\/renew$/, 'billing', 'renew', true],
  [/^\/renewals\/([^/]+)$/, 'billing', 'renewal', true],
  [/^\/invoices$/, 'billing', 'invoices', true],
  [/^\/invoices\/([^/]+)$/, 'billing', 'invoice', true],
  [/^\/terms-of-sale$/, 'billing', 'terms', false],
  [/^\/account$/, 'account', 'account', true],
  [/^\/account\/email\/verify$/, 'account', 'verifyEmail', true],
  [/^\/account\/alternate-email\/verify$/, 'account', 'verifyAlternate', true],
  [/^\/account\/security$/, 'security', 'securityQuestions', true],
  [/^\/account\/sessions$/, 'account', 'sessions', true],
  [/^\/organisations\/register$/, 'organisation', 'register', false],
  [/^\/organisation$/, 'organisation', 'organisation', true],
  [/^\/organisation\/members$/, 'organisation', 'organisation', true],
  [/^\/invitation$/, 'invitation', 'invitation', false],
];

/** Goes to `path` (a portal path with its query) without reloading. */
export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

/** Where a page that needs a session sends someone without one, and back after. */
export function loginFirst() {
  navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
}

const RELOADED = 'signet.reloaded';

/** A page module that no longer loads (the portal was deployed again under an open tab): reload, once. */
function reloadOnce() {
  if (sessionStorage.getItem(RELOADED)) {
    return append(document.getElementById('main'), h('p', { class: 'alert', role: 'alert' }, t('error.network')));
  }
  sessionStorage.setItem(RELOADED, '1');
  append(document.getElementById('main'), h('p', { class: 'notice', role: 'status' }, t('common.reload')));
  return location.reload();
}

async function render() {
  document.getElementById('announce').textContent = '';
  const path = location.pathname;
  const query = new URLSearchParams(location.search);
  const me = await session.me();
  if (me) preferLang(me.locale);
  shell(me);
  for (const [pattern, module, name, needsSession] of ROUTES) {
    const match = path.match(pattern);
    if (!match) continue;
    if (needsSession && !me) return loginFirst();
    let pages;
    try {
      pages = await import(`./pages/${module}.js`);
    } catch {
      return reloadOnce();
    }
    sessionStorage.removeItem(RELOADED);
    try {
      return await pages[name]({ params: match.slice(1).map(decodeURIComponent), query, me });
    } catch (error) {
      if (error.code === 'token_invalid') {
        // The session ended meanwhile (idle, signed out elsewhere): sign in again, then back.
        session.ended();
        return loginFirst();
      }
      // A page whose data the API refused (a role the space does not give, say): its words.
      return append(document.getElementById('main'), h('p', { class: 'alert', role: 'alert' }, describe(error)));
    }
  }
  page('notfound.title', h('p', {}, t('notfound.text')), h('p', {}, link('/', t('nav.home'))));
}

/** The header (links, the language switch) and the banner of the space. */
function shell(me) {
  document.documentElement.lang = lang();
  document.getElementById('skip').textContent = t('skip');
  const here = location.pathname;
  const item = (href, key) => h('li', {}, link(href, t(key), here === href ? { 'aria-current': 'page' } : {}));
  const links = me
    ? [item('/dashboard', 'nav.dashboard'), item('/invoices', 'nav.invoices'), item('/account', 'nav.account'),
      session.space()?.kind === 'organisation' ? item('/organisation', 'nav.organisation') : null,
      h('li', {}, h('button', { type: 'button', class: 'link', onclick: async () => { await session.logout(); navigate('/login'); } }, t('nav.logout')))]
    : [item('/login', 'nav.login'), item('/signup', 'nav.signup'), item('/organisations/register', 'nav.register')];
  document.getElementById('nav').replaceChildren(h('ul', {}, links));
  const other = lang() === 'fr' ? 'en' : 'fr';
  document.getElementById('lang').replaceChildren(h('button', {
    type: 'button', class: 'secondary', lang: other, 'aria-label': t('lang.switch'),
    onclick: () => { setLang(other); render(); },
  }, other === 'fr' ? 'Français' : 'English'));
  banner(me);
}

function banner(me) {
  const space = session.space();
  const el = document.getElementById('banner');
  if (!me || !space || session.bannerClosed()) return el.replaceChildren();
  const others = session.spaces().filter((s) => s.id !== space.id);
  el.replaceChildren(h('div', { class: 'banner', role: 'region', 'aria-label': t('banner.label') },
    h('p', {}, t(space.kind === 'organisation' ? 'banner.organisation' : 'banner.personal', { name: space.name })),
    others.length ? link('/dashboard?switch=1', t('banner.switch')) : null,
    h('button', { type: 'button', class: 'link', onclick: () => { session.closeBanner(); banner(me); document.getElementById('page-title')?.focus(); } }, t('banner.close'))));
}

document.addEventListener('click', (event) => {
  const a = event.target.closest('a[data-link]');
  if (!a || event.ctrlKey || event.metaKey || event.shiftKey || a.target) return;
  event.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', render);
render();
