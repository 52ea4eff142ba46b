// The second factor, wherever a step asks for it (login, re-authentication, a password
// reset, a new login email, activation): a code by SMS or call, the authenticator app, or a
// backup code; "send a new code" by SMS or by call after its wait; "I can't use my app".
import { t } from './i18n.js';
import { h, replaceChildren, form, countdown, describe, announce } from './ui.js';
import { post } from './api.js';

function said(view) {
  if (view.method === 'sms') return t('factor.sms', { hint: view.phone_hint || '' });
  if (view.method === 'voice') return t('factor.voice', { hint: view.phone_hint || '' });
  if (view.method === 'totp') return t('factor.totp');
  return t('factor.none');
}

/**
 * The factor's form in `container`. `view`: the step's FactorView (method, phone_hint,
 * resend_after, phone_available, backup_codes_accepted); `token`: its login or challenge token;
 * `submit(answer)`: sends {code} or {backup_code}; `fields`: more fields (a PIN); `after`:
 * more below (the "no access" link).
 */
export function factorStep(container, { view, token, submit, fields = [], submitLabel = 'factor.submit', after = null }) {
  let backup = false;
  const draw = () => {
    const status = h('p', { class: 'notice' }, said(view));
    const codeField = backup
      ? { name: 'backup_code', label: 'factor.backup_code', autocomplete: 'off', hint: 'factor.backup_hint' }
      : { name: 'code', label: 'factor.code', autocomplete: 'one-time-code', inputmode: 'numeric' };
    const theForm = form({
      fields: [codeField, ...fields],
      submit: submitLabel,
      fieldOf: { code_invalid: backup ? 'backup_code' : 'code', code_expired: 'code', backup_code_invalid: 'backup_code' },
      onSubmit: (values) => submit(values),
    });
    const resendNote = h('p', { class: 'hint wait' });
    const resendError = h('p', { class: 'error', role: 'alert' });
    const resend = (channel) => h('button', { type: 'button', class: 'secondary', onclick: async (event) => {
      resendError.textContent = '';
      try {
        const next = await post('/login/code/resend', { login_token: token, channel });
        view = { ...view, ...next };
        announce(said(view));
        draw();
      } catch (error) {
        resendError.textContent = describe(error);
        if (error.retryAfter) countdown(event.target, Date.now() / 1000 + error.retryAfter);
      }
    } }, t(channel === 'sms' ? 'factor.resend_sms' : 'factor.resend_voice'));
    const buttons = [];
    if (view.phone_available || view.method === 'sms' || view.method === 'voice') {
      buttons.push(resend('sms'), resend('voice'));
    }
    const resendBlock = buttons.length
      ? h('div', { class: 'card' }, h('p', {}, t(view.method === 'totp' ? 'factor.cannot_use_app' : 'factor.no_code')),
        h('div', { class: 'actions' }, ...buttons), resendNote, resendError)
      : null;
    const toggle = view.backup_codes_accepted
      ? h('button', { type: 'button', class: 'link', onclick: () => { backup = !backup; draw(); } },
        t(backup ? 'factor.use_code' : 'factor.use_backup'))
      : null;
    replaceChildren(container, status, theForm, h('div', { class: 'actions' }, toggle), resendBlock, after);
    if (view.resend_after) for (const b of buttons) countdown(b, view.resend_after);
    theForm.querySelector('input')?.focus();
  };
  draw();
}

/**
 * Re-authentication (password, then the second factor) before a change that needs it;
 * resolves when done. Drawn in `container`.
 */
export function reauthenticate(container) {
  return new Promise((resolve) => {
    const done = () => { replaceChildren(container, ); resolve(); };
    replaceChildren(container, h('div', { class: 'card' }, h('h2', {}, t('reauth.title')), h('p', {}, t('reauth.text')),
      form({
        fields: [{ name: 'password', label: 'field.password', type: 'password', autocomplete: 'current-password' }],
        submit: 'reauth.submit',
        fieldOf: { login_failed: 'password', invalid_credentials: 'password' },
        onSubmit: async ({ password }) => {
          const started = await post('/reauth', { password });
          if (started.status === 'reauthenticated') return done();
          const box = h('div', {});
          replaceChildren(container, h('div', { class: 'card' }, h('h2', {}, t('reauth.title')), box));
          factorStep(box, {
            view: started,
            token: started.login_token,
            submit: async (answer) => { await post('/reauth/code', { challenge_token: started.login_token, ...answer }); done(); },
          });
        },
      })));
    container.querySelector('input')?.focus();
  });
}

/** Runs `step`; when the API asks for a re-authentication first, asks for it in `container`, then runs it again. */
export async function withReauth(container, step) {
  try {
    return await step();
  } catch (error) {
    if (error.code !== 'reauthentication_required') throw error;
    await reauthenticate(container);
    return step();
  }
}
