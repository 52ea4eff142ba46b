// Building pages without HTML strings (nothing from the API is ever parsed as HTML), and
// the one form every page uses: labelled fields, errors next to the field they concern and
// announced, the first wrong field focused.
import { t } from './i18n.js';
import { ApiError, post } from './api.js';

/** An element: `h('p', {class: 'x'}, 'text', child)`. `on*` attributes become listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'text') el.textContent = value;
    else el.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** An internal link (the router follows it without reloading). */
export const link = (href, text, attrs = {}) => h('a', { href, 'data-link': true, ...attrs }, text);

/** Puts a page in <main>: its title in the tab and a heading that takes the focus. */
export function page(titleKey, ...children) {
  const main = document.getElementById('main');
  const title = typeof titleKey === 'string' ? t(titleKey) : titleKey.text;
  document.title = `${title} · Signet`;
  const heading = h('h1', { tabindex: '-1', id: 'page-title' }, title);
  main.replaceChildren(heading, ...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  heading.focus();
  return main;
}

/** Says `text` to a screen reader. */
export function announce(text) {
  const region = document.getElementById('announce');
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 50);
}

let counter = 0;

/** One field: {name, label (key), type, value, autocomplete, hint (key), required, options, inputmode}. */
function field(spec) {
  const id = `f-${spec.name}-${++counter}`;
  const errorId = `${id}-error`;
  const hintId = spec.hint ? `${id}-hint` : null;
  const error = h('p', { class: 'error', id: errorId, hidden: true });
  let control;
  if (spec.type === 'radio' || spec.type === 'checkboxes') {
    const kind = spec.type === 'radio' ? 'radio' : 'checkbox';
    control = h('fieldset', { 'aria-describedby': [hintId, errorId].filter(Boolean).join(' ') },
      h('legend', {}, t(spec.label)),
      spec.options.map((o) => h('label', {},
        h('input', { type: kind, name: spec.name, value: o.value, checked: (spec.value ?? []).includes?.(o.value) || spec.value === o.value }),
        o.text ?? t(o.label))));
    const wrap = h('div', { class: 'field', 'data-field': spec.name }, control, spec.hint && h('p', { class: 'hint', id: hintId }, t(spec.hint)), error);
    return { el: wrap, error, focus: () => wrap.querySelector('input')?.focus(), invalid: (on) => control.toggleAttribute('aria-invalid', on) };
  }
  if (spec.type === 'select') {
    control = h('select', { id, name: spec.name, required: spec.required !== false },
      spec.options.map((o) => h('option', { value: o.value, selected: o.value === spec.value }, o.text ?? t(o.label))));
  } else if (spec.type === 'checkbox') {
    control = h('input', { id, name: spec.name, type: 'checkbox', required: spec.required, checked: spec.value });
  } else {
    control = h('input', {
      id, name: spec.name, type: spec.type || 'text', value: spec.value ?? '', autocomplete: spec.autocomplete || 'off',
      inputmode: spec.inputmode, required: spec.required !== false, spellcheck: 'false',
    });
  }
  control.setAttribute('aria-describedby', [hintId, errorId].filter(Boolean).join(' '));
  const label = h('label', { for: id }, spec.labelNode || t(spec.label));
  const parts = spec.type === 'checkbox'
    ? [h('div', { class: 'actions' }, control, label)]
    : [label, control];
  const wrap = h('div', { class: 'field', 'data-field': spec.name }, ...parts,
    spec.hint && h('p', { class: 'hint', id: hintId }, t(spec.hint)), error);
  return { el: wrap, error, focus: () => control.focus(), invalid: (on) => control.setAttribute('aria-invalid', on ? 'true' : 'false') };
}

function values(form) {
  const data = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === 'checkbox' && form.querySelectorAll(`[name="${el.name}"]`).length > 1) {
      data[el.name] ??= [];
      if (el.checked) data[el.name].push(el.value);
    } else if (el.type === 'checkbox') data[el.name] = el.checked;
    else if (el.type === 'radio') { if (el.checked) data[el.name] = el.value; }
    else data[el.name] = el.value.trim();
  }
  return data;
}

/**
 * A form: `fields`, a `submit` label key, and `onSubmit(values)` (async). An ApiError is shown
 * next to its field (its `field`, or `fieldOf[code]`), else above the button; announced.
 */
export function form({ fields, submit, onSubmit, fieldOf = {}, extra = [], secondary = null }) {
  const built = fields.map((spec) => [spec.name, field(spec)]);
  const alert = h('p', { class: 'alert', role: 'alert' });
  const button = h('button', { type: 'submit' }, t(submit));
  const el = h('form', { novalidate: true }, built.map(([, f]) => f.el), ...extra, alert,
    h('div', { class: 'actions' }, button, secondary));
  const clear = () => {
    alert.textContent = '';
    for (const [, f] of built) { f.error.hidden = true; f.error.textContent = ''; f.invalid(false); }
  };
  const show = (error) => {
    const name = error.field && built.some(([n]) => n === error.field) ? error.field : fieldOf[error.code];
    const target = built.find(([n]) => n === name)?.[1];
    const message = error instanceof ApiError ? describe(error) : String(error.message || error);
    if (target) {
      target.error.textContent = message;
      target.error.hidden = false;
      target.invalid(true);
      target.focus();
      announce(message);
    } else {
      alert.textContent = message;
    }
  };
  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear();
    // Every empty required field at once, the first one focused.
    const missing = built.filter(([, f]) => {
      const input = f.el.querySelector('input:not([type=radio]):not([type=checkbox]), select');
      return input && input.required && !input.value.trim();
    });
    if (missing.length) {
      for (const [name] of [...missing].reverse()) show({ field: name, message: t('error.required') });
      return;
    }
    button.disabled = true;
    try {
      await onSubmit(values(el));
    } catch (error) {
      show(error);
    } finally {
      button.disabled = false;
    }
  });
  return Object.assign(el, { showError: show });
}

/** The readable message of an API error (the API's own words, in the page's language). */
export function describe(error) {
  if (error.code === 'network') return t('error.network');
  return error.message || t('error.unexpected');
}

/** A button that runs `action` and shows its error in `into` (or an alert after it). */
export function action(labelKey, run, attrs = {}) {
  const alert = h('span', { class: 'error', role: 'alert' });
  const button = h('button', { type: 'button', ...attrs, onclick: async () => {
    alert.textContent = '';
    button.disabled = true;
    try { await run(); } catch (error) { alert.textContent = describe(error); } finally { button.disabled = false; }
  } }, typeof labelKey === 'string' ? t(labelKey) : labelKey.text);
  return h('span', { class: 'actions' }, button, alert);
}

/** Enables a "send a new code" button once `resendAfter` (unix seconds) has passed, saying the wait. */
export function countdown(button, resendAfter) {
  const tick = () => {
    const wait = Math.ceil(resendAfter - Date.now() / 1000);
    if (wait > 0) {
      button.disabled = true;
      button.dataset.wait = String(wait);
      button.title = t('code.wait', { seconds: wait });
      const note = button.closest('.card')?.querySelector('.wait');
      if (note) note.textContent = t('code.wait', { seconds: wait });
      setTimeout(tick, 1000);
    } else {
      button.disabled = false;
      const note = button.closest('.card')?.querySelector('.wait');
      if (note) note.textContent = '';
    }
  };
  tick();
}

const present = (children) => children.flat().filter((c) => c !== null && c !== undefined && c !== false);
/** `el.append` without the null children (an absent part of a page). */
export const append = (el, ...children) => el.append(...present(children));
export const prepend = (el, ...children) => el.prepend(...present(children));
export const replaceChildren = (el, ...children) => el.replaceChildren(...present(children));

/**
 * A page opened from an emailed link: its token goes to `path`, and the answer comes back;
 * or the refusal (a used or expired link) is shown in `box` with a way on (`again`: its
 * href and words), and null comes back.
 */
export async function fromLink(box, path, token, [href, key]) {
  try {
    return await post(path, { token: token || '' });
  } catch (error) {
    replaceChildren(box, h('p', { class: 'alert', role: 'alert' }, describe(error)), h('p', {}, link(href, t(key))));
    return null;
  }
}
