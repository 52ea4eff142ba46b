// My account: the login email (a link to the new address, then the second factor), the
// phone, the alternate email, the password, the authenticator app (QR code, the ten backup
// codes shown once with a download), my sessions, and logging out everywhere.
import { t, date } from '../lib/i18n.js';
import { h, append, replaceChildren, link, page, form, action, announce, fromLink } from '../lib/ui.js';
import { get, post, del } from '../lib/api.js';
import { factorStep, withReauth } from '../lib/factor.js';
import * as session from '../lib/session.js';
import { navigate } from '../app.js';

const section = (titleKey, ...children) => h('section', { class: 'card', 'aria-labelledby': `s-${titleKey}` },
  h('h2', { id: `s-${titleKey}` }, t(titleKey)), ...children);

export async function account() {
  const me = await get('/account/email');
  const reauth = h('div', {});
  page('account.title', reauth,
    section('account.email', h('p', {}, t('account.email_now', { email: me.email })),
      me.pending_email ? h('p', { class: 'notice' }, t('account.email_pending', { email: me.pending_email })) : null,
      changeEmail()),
    section('account.phone', h('p', {}, t('account.phone_now', { hint: me.phone_hint || '—', channel: me.phone_channel ? t(`channel.${me.phone_channel}`) : '—' })), changePhone(reauth)),
    section('account.alternate', alternate(me, reauth)),
    section('account.password', changePassword(reauth)),
    section('account.app', h('div', {}, authenticator(reauth))),
    section('account.security', h('p', {}, link('/account/security', t('security.title')))),
    section('account.sessions', h('p', {}, link('/account/sessions', t('sessions.title'))), logoutEverywhere()));
}

function changeEmail() {
  const box = h('div', {});
  append(box, form({
    fields: [{ name: 'new_email', label: 'account.new_email', type: 'email', autocomplete: 'email' }],
    submit: 'account.email_submit',
    onSubmit: async ({ new_email }) => {
      await post('/account/email', { new_email });
      replaceChildren(box, h('p', { class: 'success', role: 'status' }, t('account.email_sent', { email: new_email })));
    },
  }));
  return box;
}

function changePhone(reauth) {
  const box = h('div', {});
  const start = () => replaceChildren(box, form({
    fields: [
      { name: 'phone', label: 'account.new_phone', type: 'tel', autocomplete: 'tel', hint: 'field.phone_hint' },
      { name: 'channel', label: 'field.channel', type: 'radio', value: 'sms', options: [{ value: 'sms', label: 'channel.sms' }, { value: 'voice', label: 'channel.voice' }] },
    ],
    submit: 'account.phone_submit',
    onSubmit: async (values) => {
      const sent = await withReauth(reauth, () => post('/account/phone', values));
      replaceChildren(box, h('p', { class: 'notice' }, t(sent.channel === 'voice' ? 'factor.voice' : 'factor.sms', { hint: sent.phone_hint })), form({
        fields: [{ name: 'code', label: 'factor.code', autocomplete: 'one-time-code', inputmode: 'numeric' }],
        submit: 'factor.submit',
        onSubmit: async ({ code }) => {
          const done = await post('/account/phone/confirm', { code });
          replaceChildren(box, h('p', { class: 'success', role: 'status' }, t('account.phone_done', { hint: done.phone_hint })));
        },
      }));
      box.querySelector('input').focus();
    },
  }));
  start();
  return box;
}

function alternate(me, reauth) {
  const box = h('div', {});
  if (me.alternate_email) {
    append(box, h('p', {}, t(me.alternate_email_verified ? 'account.alternate_verified' : 'account.alternate_unverified', { email: me.alternate_email })),
      action('account.alternate_remove', async () => { await del('/account/alternate-email'); navigate('/account', { replace: true }); }, { class: 'secondary' }));
  }
  append(box, form({
    fields: [{ name: 'email', label: 'account.alternate_new', type: 'email', autocomplete: 'email' }],
    submit: 'account.alternate_submit',
    onSubmit: async ({ email }) => {
      await withReauth(reauth, () => post('/account/alternate-email', { email }));
      replaceChildren(box, h('p', { class: 'success', role: 'status' }, t('account.alternate_sent', { email })));
    },
  }));
  return box;
}

function changePassword(reauth) {
  const box = h('div', {});
  append(box, form({
    fields: [{ name: 'new_password', label: 'field.new_password', type: 'password', autocomplete: 'new-password', hint: 'field.password_hint' }],
    submit: 'account.password_submit',
    onSubmit: async ({ new_password }) => {
      const done = await withReauth(reauth, () => post('/account/password', { new_password }));
      replaceChildren(box, h('p', { class: 'success', role: 'status' }, t('account.password_done', { count: done.other_sessions_ended })));
    },
  }));
  return box;
}

function authenticator(reauth) {
  const box = h('div', {});
  append(box, h('p', {}, t('account.app_text')), h('div', { class: 'actions' },
    action('account.app_add', async () => {
      const enrolment = await withReauth(reauth, () => post('/account/totp'));
      enrolApp(box, enrolment, async (code) => {
        await post('/account/totp/confirm', { code });
        replaceChildren(box, h('p', { class: 'success', role: 'status' }, t('account.app_done')));
      });
    }),
    action('account.app_remove', async () => {
      await withReauth(reauth, () => del('/account/totp'));
      replaceChildren(box, h('p', { class: 'success', role: 'status' }, t('account.app_removed')));
    }, { class: 'secondary' })));
  return box;
}

/** The app's enrolment: its QR code, the ten backup codes shown once (with a download), then its first code. */
export function enrolApp(box, enrolment, confirm) {
  const codes = enrolment.backup_codes;
  const file = URL.createObjectURL(new Blob([`${t('app.codes_file')}\n\n${codes.join('\n')}\n`], { type: 'text/plain' }));
  const secret = new URL(enrolment.otpauth_uri).searchParams.get('secret');
  replaceChildren(box, 
    h('h3', {}, t('app.title')),
    h('p', {}, t('app.scan')),
    h('img', { class: 'qr', alt: t('app.qr_alt'), src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrolment.qr_svg)}` }),
    h('p', {}, t('app.secret'), ' ', h('code', {}, secret)),
    h('h4', {}, t('app.codes_title')),
    h('p', { class: 'notice' }, t('app.codes_once')),
    h('ul', { class: 'codes', 'aria-label': t('app.codes_title') }, codes.map((c) => h('li', {}, c))),
    h('p', {}, h('a', { href: file, download: 'signet-backup-codes.txt', class: 'button secondary' }, t('app.download'))),
    form({
      fields: [{ name: 'code', label: 'app.code', autocomplete: 'one-time-code', inputmode: 'numeric' }],
      submit: 'app.confirm',
      onSubmit: async ({ code }) => confirm(code),
    }),
  );
  box.querySelector('h3').setAttribute('tabindex', '-1');
  box.querySelector('h3').focus();
}

function logoutEverywhere() {
  return action('account.logout_everywhere', async () => {
    await post('/logout/everywhere');
    session.ended();
    navigate('/login');
  }, { class: 'secondary' });
}

export async function sessions() {
  const box = h('div', {});
  page('sessions.title', box);
  const draw = async () => {
    const { sessions: list } = await get('/sessions');
    replaceChildren(box, h('ul', { class: 'list' }, list.map((s) => h('li', { class: 'card' },
      h('p', {}, h('strong', {}, s.device || t('sessions.unknown_device')), s.current ? ` — ${t('sessions.this_device')}` : ''),
      h('p', { class: 'hint' }, t('sessions.since', { created: date(s.created_at, true), used: date(s.last_used_at, true) })),
      s.current ? null : action({ text: t('sessions.revoke') }, async () => {
        await del(`/sessions/${encodeURIComponent(s.id)}`);
        announce(t('sessions.revoked'));
        await draw();
      }, { class: 'secondary', 'aria-label': `${t('sessions.revoke')} — ${s.device}` })))),
    logoutEverywhere(), h('p', {}, link('/account', t('nav.account'))));
  };
  await draw();
}

/** The new login address's link: the second factor, then the login moves. */
export async function verifyEmail({ query }) {
  const box = h('div', {});
  page('verify_email.title', box);
  const started = await fromLink(box, '/account/email/verify', query.get('token'), ['/account', 'nav.account']);
  if (!started) return;
  append(box, h('p', {}, t('verify_email.text')));
  const inner = h('div', {});
  append(box, inner);
  factorStep(inner, {
    view: started,
    token: started.challenge_token,
    submit: async (answer) => {
      const done = await post('/account/email/confirm', { challenge_token: started.challenge_token, ...answer });
      session.forget();
      replaceChildren(box, h('p', { class: 'success', role: 'status' }, t('verify_email.done', { email: done.email })), h('p', {}, link('/account', t('nav.account'))));
    },
  });
}

export async function verifyAlternate({ query }) {
  const box = h('div', {});
  page('verify_alternate.title', box);
  const done = await fromLink(box, '/account/alternate-email/verify', query.get('token'), ['/account', 'nav.account']);
  if (!done) return;
  append(box, h('p', { class: 'success', role: 'status' }, t('verify_alternate.done', { email: done.alternate_email })));
  append(box, h('p', {}, link('/account', t('nav.account'))));
}
