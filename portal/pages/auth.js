// Login (email or identifier, password → second factor → space), the first sign-in's set-up
// (a new password, then a phone or an app), forgot password, forgot identifier.
import { t } from '../lib/i18n.js';
import { h, append, replaceChildren, link, page, form, announce, fromLink } from '../lib/ui.js';
import { post } from '../lib/api.js';
import { factorStep } from '../lib/factor.js';
import { enrolApp } from './account.js';
import * as session from '../lib/session.js';
import { navigate } from '../app.js';

/** A path of this portal to go back to after signing in (never another site). */
export function safeNext(next) {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/dashboard';
}

function device() {
  const ua = navigator.userAgent;
  const browser = /Firefox\//.test(ua) ? 'Firefox' : /Edg\//.test(ua) ? 'Edge' : /Chrom/.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  const system = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Windows/.test(ua) ? 'Windows' : /Mac OS/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
  return [browser, system].filter(Boolean).join(' · ');
}

const password = (name = 'password', label = 'field.password', autocomplete = 'current-password') =>
  ({ name, label, type: 'password', autocomplete });

export function login({ query }) {
  const next = safeNext(query.get('next'));
  const box = h('div', {});
  page('login.title', query.get('next') ? h('p', { class: 'notice' }, t('login.first')) : null, box);
  start(box, next, null);
}

export function enrol({ query }) {
  const box = h('div', {});
  page('enrol.title', h('p', {}, t('enrol.text')), box);
  start(box, '/dashboard', query.get('token'));
}

function start(box, next, enrolment) {
  replaceChildren(box, 
    form({
      fields: [
        { name: 'login', label: 'field.email_or_identifier', autocomplete: 'username', hint: 'login.identifier_hint' },
        password(),
      ],
      submit: 'login.submit',
      fieldOf: { login_failed: 'password', invalid_email: 'login' },
      onSubmit: async (values) => {
        const who = values.login.includes('@') ? { email: values.login } : { identifier: values.login.toUpperCase() };
        const result = await post('/login', { ...who, password: values.password, device: device() });
        await proceed(box, result, { next, enrolment });
      },
    }),
    h('p', { class: 'actions' }, link('/password/forgot', t('login.forgot_password')), link('/identifier/forgot', t('login.forgot_identifier')), link('/signup', t('login.no_account'))),
  );
}

/** Carries a login on from any of its answers. */
async function proceed(box, result, context) {
  if (result.status === 'signed_in') {
    session.signedIn(result, context.spaces);
    announce(t('login.done'));
    return navigate(context.next, { replace: true });
  }
  if (result.status === 'second_factor_required') return factor(box, result, context);
  if (result.status === 'choose_space') return chooseSpace(box, result, context);
  if (result.status === 'setup_required') return setup(box, result, context);
  throw new Error(t('error.unexpected'));
}

function factor(box, view, context) {
  const noAccess = h('p', {}, h('button', { type: 'button', class: 'link', onclick: async () => {
    if (!window.confirm(t('login.no_access_confirm'))) return;
    try {
      await post('/login/no-access', { login_token: view.login_token });
      replaceChildren(box, h('p', { class: 'success', role: 'status' }, t('login.no_access_sent')));
    } catch (error) {
      box.querySelector('.alert').textContent = error.message;
    }
  } }, t('login.no_access')));
  factorStep(box, {
    view,
    token: view.login_token,
    submit: async (answer) => proceed(box, await post('/login/code', { login_token: view.login_token, ...answer }), context),
    after: noAccess,
  });
}

function chooseSpace(box, choice, context) {
  const spaces = choice.spaces;
  replaceChildren(box, h('h2', {}, t('login.choose_space')), form({
    fields: [{
      name: 'space_id', label: 'login.space', type: 'radio', value: spaces[0]?.id,
      options: spaces.map((s) => ({ value: s.id, text: `${s.name} (${t(`space.${s.kind}`)})` })),
    }],
    submit: 'login.continue',
    onSubmit: async ({ space_id }) =>
      proceed(box, await post('/login/space', { login_token: choice.login_token, space_id }), { ...context, spaces }),
  }));
  box.querySelector('input')?.focus();
}

/** The first sign-in: a new password in place of a temporary one, then a second factor. */
function setup(box, state, context) {
  const token = state.login_token;
  if (state.password_change_required) {
    replaceChildren(box, h('h2', {}, t('setup.password_title')), h('p', {}, t('setup.password_text')), form({
      fields: [password('password', 'field.new_password', 'new-password')],
      submit: 'setup.password_submit',
      onSubmit: async (values) => proceed(box, await post('/login/setup/password', { login_token: token, password: values.password }), context),
    }));
    return box.querySelector('input').focus();
  }
  if (state.enrolment_link_required && !context.enrolment) {
    return replaceChildren(box, h('p', { class: 'notice', role: 'status' }, t('setup.enrolment_link')));
  }
  const enrolment_token = context.enrolment || undefined;
  replaceChildren(box, h('h2', {}, t('setup.factor_title')), h('p', {}, t('setup.factor_text')), form({
    fields: [{ name: 'kind', label: 'setup.factor_kind', type: 'radio', value: 'phone', options: [
      { value: 'phone', label: 'setup.by_phone' }, { value: 'app', label: 'setup.by_app' }] }],
    submit: 'login.continue',
    onSubmit: async ({ kind }) => {
      if (kind === 'app') {
        const enrolment = await post('/login/setup/app', { login_token: token, enrolment_token });
        return enrolApp(box, enrolment, async (code) =>
          proceed(box, await post('/login/setup/app/confirm', { login_token: token, code }), context));
      }
      return setupPhone(box, token, enrolment_token, context);
    },
  }));
  box.querySelector('input').focus();
}

function setupPhone(box, token, enrolment_token, context) {
  replaceChildren(box, h('h2', {}, t('setup.phone_title')), form({
    fields: [
      { name: 'phone', label: 'field.phone', type: 'tel', autocomplete: 'tel', hint: 'field.phone_hint' },
      { name: 'channel', label: 'field.channel', type: 'radio', value: 'sms', options: [{ value: 'sms', label: 'channel.sms' }, { value: 'voice', label: 'channel.voice' }] },
    ],
    submit: 'setup.phone_submit',
    onSubmit: async ({ phone, channel }) => {
      const sent = await post('/login/setup/phone', { login_token: token, phone, channel, enrolment_token });
      replaceChildren(box, h('p', { class: 'notice' }, t(sent.channel === 'voice' ? 'factor.voice' : 'factor.sms', { hint: sent.phone_hint })), form({
        fields: [{ name: 'code', label: 'factor.code', autocomplete: 'one-time-code', inputmode: 'numeric' }],
        submit: 'factor.submit',
        onSubmit: async ({ code }) => proceed(box, await post('/login/setup/phone/confirm', { login_token: token, code }), context),
      }), h('p', {}, h('button', { type: 'button', class: 'link', onclick: () => setupPhone(box, token, enrolment_token, context) }, t('setup.other_number'))));
      box.querySelector('input').focus();
    },
  }));
  box.querySelector('input').focus();
}

const emailOnly = [{ name: 'email', label: 'field.email', type: 'email', autocomplete: 'email' }];

/** "Forgot password" and "forgot identifier": an address, then the same answer whatever it is. */
function byEmail(titleKey, textKey, path) {
  const box = h('div', {});
  page(titleKey, h('p', {}, t(textKey)), box);
  append(box, form({ fields: emailOnly, submit: 'forgot.send', onSubmit: async ({ email }) => {
    await post(path, { email });
    replaceChildren(box, h('p', { class: 'success', role: 'status' }, t('forgot.sent', { email })));
  } }));
}

export const forgotPassword = () => byEmail('forgot.password_title', 'forgot.password_text', '/password/forgot');
export const forgotIdentifier = () => byEmail('forgot.identifier_title', 'forgot.identifier_text', '/identifier/forgot');

export async function resetPassword({ query }) {
  const box = h('div', {});
  page('reset.title', box);
  const started = await fromLink(box, '/password/reset/start', query.get('token'), ['/password/forgot', 'reset.again']);
  if (!started) return;
  factorStep(box, {
    view: started,
    token: started.challenge_token,
    fields: [password('new_password', 'field.new_password', 'new-password')],
    submitLabel: 'reset.submit',
    submit: async (values) => {
      await post('/password/reset', { challenge_token: started.challenge_token, ...values });
      replaceChildren(box, h('p', { class: 'success', role: 'status' }, t('reset.done')), h('p', {}, link('/login', t('nav.login'))));
    },
  });
}
