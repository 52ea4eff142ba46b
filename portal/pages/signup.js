// Sign-up: email → "check your mailbox" → the link's page with the prefilled profile →
// password, phone, SMS or call → the code, with "send a new code" after its wait → done.
import { t, lang } from '../lib/i18n.js';
import { h, append, replaceChildren, link, page, form, countdown, describe, fromLink } from '../lib/ui.js';
import { post } from '../lib/api.js';

export function start() {
  const box = h('div', {});
  page('signup.title', h('p', {}, t('signup.text')), box);
  append(box, form({
    fields: [{ name: 'email', label: 'field.email', type: 'email', autocomplete: 'email' }],
    submit: 'signup.submit',
    onSubmit: async ({ email }) => {
      await post('/signup', { email, locale: lang() });
      replaceChildren(box, h('p', { class: 'success', role: 'status' }, t('signup.check_mailbox', { email })), h('p', { class: 'hint' }, t('signup.check_hint')));
    },
  }), h('p', {}, t('signup.have_account'), ' ', link('/login', t('nav.login'))));
}

export async function verify({ query }) {
  const box = h('div', {});
  page('signup.profile_title', box);
  const verified = await fromLink(box, '/signup/verify', query.get('token'), ['/signup', 'signup.again']);
  if (!verified) return;
  const p = verified.profile || {};
  replaceChildren(box, h('p', {}, t('signup.profile_text', { email: verified.email })), form({
    fields: [
      { name: 'first_name', label: 'field.first_name', value: p.first_name, autocomplete: 'given-name' },
      { name: 'last_name', label: 'field.last_name', value: p.last_name, autocomplete: 'family-name' },
      { name: 'password', label: 'field.new_password', type: 'password', autocomplete: 'new-password', hint: 'field.password_hint' },
      { name: 'phone', label: 'field.phone', type: 'tel', autocomplete: 'tel', hint: 'field.phone_hint' },
      { name: 'channel', label: 'field.channel', type: 'radio', value: 'sms', options: [{ value: 'sms', label: 'channel.sms' }, { value: 'voice', label: 'channel.voice' }] },
    ],
    submit: 'signup.profile_submit',
    onSubmit: async (values) => {
      const sent = await post('/signup/profile', { signup_token: verified.signup_token, ...values, locale: lang() });
      page('signup.code_title', box);
      code(box, verified.signup_token, sent);
    },
  }));
}

function code(box, token, sent) {
  const said = () => t(sent.channel === 'voice' ? 'factor.voice' : 'factor.sms', { hint: sent.phone_hint });
  const status = h('p', { class: 'notice', role: 'status' }, said());
  const resendError = h('p', { class: 'error', role: 'alert' });
  const resend = (channel) => h('button', { type: 'button', class: 'secondary', onclick: async () => {
    resendError.textContent = '';
    try {
      sent = await post('/signup/code', { signup_token: token, channel });
      status.textContent = said();
      buttons.forEach((b) => countdown(b, sent.resend_after));
    } catch (error) {
      resendError.textContent = describe(error);
    }
  } }, t(channel === 'sms' ? 'factor.resend_sms' : 'factor.resend_voice'));
  const buttons = [resend('sms'), resend('voice')];
  replaceChildren(box, status, form({
    fields: [{ name: 'code', label: 'factor.code', autocomplete: 'one-time-code', inputmode: 'numeric' }],
    submit: 'signup.confirm',
    onSubmit: async ({ code: value }) => {
      await post('/signup/confirm', { signup_token: token, code: value });
      replaceChildren(box, h('p', { class: 'success', role: 'status' }, t('signup.done')), h('p', {}, link('/login', t('nav.login'), { class: 'button' })));
      box.querySelector('a').focus();
    },
  }), h('div', { class: 'card' }, h('p', {}, t('factor.no_code')), h('div', { class: 'actions' }, ...buttons), h('p', { class: 'hint wait' }), resendError));
  buttons.forEach((b) => countdown(b, sent.resend_after));
  box.querySelector('input').focus();
}
