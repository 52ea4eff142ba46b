// Who is signed in, as far as a page needs to know: the account's addresses (GET
// /account/email answers only with a live session cookie) and the space the session acts
// for. Nothing here is a credential; the tab forgets it all at logout.
import { get, post } from './api.js';

const SPACE = 'signet.space';
const SPACES = 'signet.spaces';
const BANNER = 'signet.banner-closed';
let account;

/** The signed-in account (its emails and phone hint), or null. */
export async function me() {
  if (account !== undefined) return account;
  try {
    account = await get('/account/email');
  } catch {
    account = null;
  }
  return account;
}

export function forget() { account = undefined; }

/** After a sign-in: the space it acts for (and the spaces offered, when there were several). */
export function signedIn(result, spaces) {
  account = undefined;
  sessionStorage.setItem(SPACE, JSON.stringify(result.space));
  if (spaces) sessionStorage.setItem(SPACES, JSON.stringify(spaces));
  else sessionStorage.removeItem(SPACES);
  sessionStorage.removeItem(BANNER);
}

export function space() {
  try { return JSON.parse(sessionStorage.getItem(SPACE)); } catch { return null; }
}

export function spaces() {
  try { return JSON.parse(sessionStorage.getItem(SPACES)) || []; } catch { return []; }
}

export function switched(result) {
  sessionStorage.setItem(SPACE, JSON.stringify(result.space));
}

export const bannerClosed = () => sessionStorage.getItem(BANNER) === '1';
export const closeBanner = () => sessionStorage.setItem(BANNER, '1');

/** Forgets the session on this tab (the API ended it and its cookies). */
export function ended() {
  account = null;
  for (const key of [SPACE, SPACES, BANNER]) sessionStorage.removeItem(key);
}

/** Ends this session (its cookies too) and forgets it on this tab. */
export async function logout() {
  try { await post('/logout'); } catch { /* already ended */ }
  ended();
}
