// An invitation's link: a new account (first name, last name, password: the identifier is
// shown and emailed), or "I already have an account" (sign in, then join).
import { t, lang } from '../lib/i18n.js';
import { h, append, replaceChildren, link, page, form } from '../lib/ui.js';
import { post } from '../lib/api.js';
import { navigate } from '../app.js';

function joined(box, done) {
  const message = t('invitation.done', { name: done.space_name });
  replaceChildren(box, h('p', { class: 'success', role: 'status' }, message),
    done.identifier ? h('p', {}, t('invitation.identifier', { identifier: done.identifier })) : null,
    h('p', {}, link(done.identifier ? '/login' : '/dashboard', t(done.identifier ? 'nav.login' : 'nav.dashboard'), { class: 'button' })));
}

export function invitation({ query, me }) {
  const token = query.get('token') || '';
  const box = h('div', {});
  page('invitation.title', box);
  if (me) {
    append(box, h('p', {}, t('invitation.join_text', { email: me.email })), form({
      fields: [],
      submit: 'invitation.join',
      onSubmit: async () => joined(box, await post('/invitations/join', { token })),
    }));
    return;
  }
  append(box, h('p', {}, t('invitation.text')),
    h('div', { class: 'card' }, h('h2', {}, t('invitation.have_account')), h('p', {},
      link(`/login?next=${encodeURIComponent(`/invitation?token=${token}`)}`, t('invitation.sign_in_first'), { class: 'button secondary' }))),
    h('div', { class: 'card' }, h('h2', {}, t('invitation.new_account')), form({
      fields: [
        { name: 'first_name', label: 'field.first_name', autocomplete: 'given-name' },
        { name: 'last_name', label: 'field.last_name', autocomplete: 'family-name' },
        { name: 'password', label: 'field.new_password', type: 'password', autocomplete: 'new-password', hint: 'field.password_hint' },
      ],
      submit: 'invitation.accept',
      onSubmit: async (values) => {
        try {
          joined(box, await post('/invitations/accept', { token, ...values, locale: lang() }));
        } catch (error) {
          if (error.code === 'sign_in_to_accept') return navigate(`/login?next=${encodeURIComponent(`/invitation?token=${token}`)}`);
          throw error;
        }
      },
    })));
}
