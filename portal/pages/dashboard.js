// The dashboard: my subscriptions and their state, the space I act for (and switching it);
// recovery (a reference number by email) and activation (the reference, a code, a PIN).
import { t, date } from '../lib/i18n.js';
import { h, append, replaceChildren, link, page, form, announce } from '../lib/ui.js';
import { get, post } from '../lib/api.js';
import { factorStep } from '../lib/factor.js';
import { questions as securityQuestions } from './security.js';
import * as session from '../lib/session.js';
import { navigate } from '../app.js';

export function home({ me }) {
  if (me) return navigate('/dashboard', { replace: true });
  page('home.title', h('p', {}, t('home.text')), h('div', { class: 'actions' },
    link('/login', t('nav.login'), { class: 'button' }), link('/signup', t('nav.signup'), { class: 'button secondary' }),
    link('/organisations/register', t('nav.register'))));
}

function state(sub) {
  const label = h('span', { class: `state ${sub.status}` }, t(`status.${sub.status}`));
  return sub.term_end ? [label, ' ', t('subscription.ends_on', { date: date(sub.term_end) })] : [label];
}

export async function dashboard({ query }) {
  const list = h('div', {});
  const switcher = h('div', {});
  page('dashboard.title', switcher, h('h2', {}, t('dashboard.subscriptions', { name: session.space()?.name || '' })), list);
  spaceSwitcher(switcher, query.get('switch') === '1');
  const { subscriptions } = await get('/subscriptions');
  if (!subscriptions.length) return append(list, h('p', {}, t('dashboard.none')));
  append(list, h('ul', { class: 'list' }, subscriptions.map((sub) => h('li', { class: 'card' },
    h('h3', {}, sub.product_name),
    h('p', {}, ...state(sub)),
    sub.certificate_serial ? h('p', { class: 'hint' }, t('subscription.certificate', { serial: sub.certificate_serial })) : null,
    sub.recovery_pending ? h('p', { class: 'notice' }, t('subscription.recovery_pending'), ' ', link('/activation', t('subscription.activate'))) : null,
    actions(sub)))));
}

/** A subscription's buttons, named for it (several look alike); recovery first when it is what the signature needs. */
function actions(sub) {
  const which = t('subscription.which', { product: sub.product_name, date: sub.term_end ? date(sub.term_end) : '' });
  const broken = sub.status === 'needs_update' || sub.status === 'not_functional';
  const named = (key, extra) => ({ ...extra, 'aria-label': `${t(key)} — ${which}` });
  const renew = link(`/subscriptions/${encodeURIComponent(sub.id)}/renew`, t('subscription.renew'), named('subscription.renew', { class: broken ? 'button secondary' : 'button' }));
  const recover = sub.held_by_me
    ? link(`/subscriptions/${encodeURIComponent(sub.id)}/recover`, t('subscription.recover'), named('subscription.recover', { class: broken ? 'button' : 'button secondary' }))
    : null;
  return h('div', { class: 'actions' }, broken ? [recover, renew] : [renew, recover],
    sub.held_by_me && sub.status !== 'pending_activation' ? link(`/subscriptions/${encodeURIComponent(sub.id)}/pin`, t('subscription.pin_reset'), named('subscription.pin_reset', {})) : null);
}

/** "Switch space" without the password, when the login offered several. */
function spaceSwitcher(box, open) {
  const current = session.space();
  const others = session.spaces().filter((s) => s.id !== current?.id);
  if (!current) return;
  if (!others.length) return;
  const choose = form({
    fields: [{ name: 'space_id', label: 'dashboard.switch_to', type: 'select', options: others.map((s) => ({ value: s.id, text: s.name })) }],
    submit: 'dashboard.switch',
    onSubmit: async ({ space_id }) => {
      const switched = await post('/session/space', { space_id });
      session.switched(switched);
      announce(t('dashboard.switched', { name: switched.space.name }));
      navigate('/dashboard', { replace: true });
    },
  });
  append(box, h('details', { open }, h('summary', {}, t('banner.switch')), choose));
}

export async function recover({ params: [id], me }) {
  const box = h('div', {});
  page('recover.title', h('p', {}, t('recover.text')), box);
  const { subscriptions } = await get('/subscriptions');
  const sub = subscriptions.find((s) => s.id === id);
  if (!sub) return append(box, h('p', { class: 'alert', role: 'alert' }, t('recover.unknown')));
  const options = [{ value: 'professional', text: t('recover.to_login', { email: me.email }) }];
  if (me.alternate_email && me.alternate_email_verified) options.push({ value: 'alternate', text: t('recover.to_alternate', { email: me.alternate_email }) });
  append(box, h('div', { class: 'card' }, h('h2', {}, sub.product_name), h('p', {}, ...state(sub))), form({
    fields: [{ name: 'send_to', label: 'recover.send_to', type: 'radio', value: 'professional', options }],
    submit: 'recover.confirm',
    onSubmit: async ({ send_to }) => {
      const done = await post(`/subscriptions/${encodeURIComponent(id)}/recovery`, { send_to });
      replaceChildren(box, h('p', { class: 'success', role: 'status' }, t('recover.sent', { email: done.sent_to })),
        h('p', {}, t('recover.next')), h('p', {}, link('/activation', t('recover.have_reference'), { class: 'button' })));
      box.querySelector('a').focus();
    },
  }), h('p', {}, link('/dashboard', t('common.back'))));
}

export function activation({ query }) {
  const box = h('div', {});
  page('activation.title', h('p', {}, t('activation.text')), box);
  append(box, form({
    fields: [{ name: 'reference', label: 'activation.reference', value: query.get('reference') || '', hint: 'activation.reference_hint' }],
    submit: 'activation.start',
    onSubmit: async ({ reference }) => {
      const started = await post('/activation/start', { reference });
      const pin = [
        { name: 'pin', label: 'activation.pin', type: 'password', inputmode: 'numeric', autocomplete: 'new-password', hint: 'activation.pin_hint' },
        { name: 'pin_again', label: 'activation.pin_again', type: 'password', inputmode: 'numeric', autocomplete: 'new-password' },
      ];
      factorStep(box, {
        view: started,
        token: started.challenge_token,
        fields: pin,
        submitLabel: 'activation.submit',
        submit: async ({ pin_again, ...values }) => {
          if (values.pin !== pin_again) throw Object.assign(new Error(t('activation.pin_mismatch')), { field: 'pin_again' });
          const done = await post('/activation', { challenge_token: started.challenge_token, reference, ...values });
          replaceChildren(box, h('p', { class: 'success', role: 'status' }, t('activation.done')),
            h('p', {}, t('subscription.certificate', { serial: done.certificate_serial })), h('p', {}, link('/dashboard', t('nav.dashboard'))));
        },
      });
    },
  }));
}

export async function pinReset({ params: [id] }) {
  const box = h('div', {});
  page('pin.title', h('p', {}, t('pin.text')), box);
  const { mine: { questions, locked_until: locked }, text } = await securityQuestions();
  if (locked) append(box, h('p', { class: 'notice' }, t('pin.locked', { date: date(locked, true) })));
  if (!questions.length) {
    return append(box, h('p', { class: 'notice' }, t('pin.no_questions')), h('p', {}, link('/account/security', t('security.title'))));
  }
  append(box, form({
    fields: [
      ...questions.map((qid, i) => ({ name: `answer_${i}`, labelNode: text(qid), label: 'pin.answer', autocomplete: 'off' })),
      { name: 'pin', label: 'activation.pin', type: 'password', inputmode: 'numeric', autocomplete: 'new-password', hint: 'activation.pin_hint' },
    ],
    submit: 'pin.submit',
    fieldOf: { security_answers_wrong: 'answer_0', pin_invalid: 'pin' },
    onSubmit: async (values) => {
      const answers = questions.map((qid, i) => ({ question: qid, answer: values[`answer_${i}`] }));
      await post(`/subscriptions/${encodeURIComponent(id)}/pin/reset`, { answers, pin: values.pin });
      replaceChildren(box, h('p', { class: 'success', role: 'status' }, t('pin.done')), h('p', {}, link('/dashboard', t('nav.dashboard'))));
    },
  }));
}
