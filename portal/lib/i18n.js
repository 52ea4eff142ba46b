// French and English: the choice on this tab, else the account's, else the browser's.
import { WORDS } from './words.js';

const KEY = 'signet.lang';
let current = null;

export function lang() {
  if (current) return current;
  const chosen = sessionStorage.getItem(KEY);
  const browser = (navigator.languages || [navigator.language || 'en']).find((l) => /^(fr|en)\b/i.test(l)) || 'en';
  current = chosen || browser.slice(0, 2).toLowerCase();
  return current;
}

/** The person's choice (the switch), kept for this tab. */
export function setLang(value) {
  current = value === 'fr' ? 'fr' : 'en';
  sessionStorage.setItem(KEY, current);
  document.documentElement.lang = current;
}

/** The account's language, when no choice was made on this tab. */
export function preferLang(value) {
  if (!sessionStorage.getItem(KEY) && (value === 'fr' || value === 'en')) {
    current = value;
    document.documentElement.lang = current;
  }
}

/** The words for `key`, with `{name}` replaced by `vars.name`. */
export function t(key, vars = {}) {
  const entry = WORDS[key];
  if (!entry) {
    console.warn('missing words', key);
    return key;
  }
  return entry[lang()].replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** A date (unix seconds) in the page's language. */
export function date(seconds, withTime = false) {
  const options = withTime ? { dateStyle: 'long', timeStyle: 'short' } : { dateStyle: 'long' };
  return new Intl.DateTimeFormat(lang() === 'fr' ? 'fr-FR' : 'en-GB', options).format(new Date(seconds * 1000));
}

/** An amount ("114.98") in its currency. */
export function money(amount, currency) {
  return new Intl.NumberFormat(lang() === 'fr' ? 'fr-FR' : 'en-GB', { style: 'currency', currency }).format(Number(amount));
}
