// The portal's only way to Signet: its own API under /api/, on the same origin. The
// browser keeps the session in HttpOnly cookies the API sets; this code never sees a token.
import { lang } from './i18n.js';

export const API = '/api';

/** A problem+json answer: its stable `code`, the field it concerns, its readable title. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || 'unavailable';
    this.field = problem.field || null;
    this.retryAfter = problem.retry_after || null;
  }
}

let refreshing = null;

/** Asks for a new access cookie with the refresh cookie (once at a time). */
export function refresh() {
  refreshing ??= fetch(`${API}/token/refresh`, request('POST', {}))
    // 409: another tab refreshed a moment ago; its new cookie is already in the jar.
    .then(async (r) => { await r.text(); return r.ok || r.status === 409; })
    .catch(() => false)
    .finally(() => { refreshing = null; });
  return refreshing;
}

function request(method, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', 'Accept-Language': lang() } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return init;
}

async function send(method, path, body) {
  const response = await fetch(API + path, request(method, body));
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  return { response, data };
}

/**
 * Calls the API; resolves to the JSON answer (null when empty), rejects with an ApiError.
 * An expired access cookie (token_invalid) is refreshed once and the call made again; any
 * other refusal (a wrong password, a used link) is the answer.
 */
export async function api(method, path, body) {
  let answer;
  try {
    answer = await send(method, path, body);
    if (answer.response.status === 401 && answer.data?.code === 'token_invalid' && (await refresh())) {
      answer = await send(method, path, body);
    }
  } catch {
    throw new ApiError(0, { code: 'network', title: null });
  }
  if (!answer.response.ok) throw new ApiError(answer.response.status, answer.data || {});
  return answer.data;
}

export const get = (path) => api('GET', path);
export const post = (path, body = {}) => api('POST', path, body);
export const put = (path, body = {}) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);
