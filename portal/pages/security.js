// Security questions: at least three, answered; they reset a forgotten PIN and nothing else.
import { t, date } from '../lib/i18n.js';
import { h, append, replaceChildren, link, page, form } from '../lib/ui.js';
import { get, put } from '../lib/api.js';

/** The questions on offer, mine (their ids, and until when a PIN reset is locked), and a question's words by id. */
export async function questions() {
  const [{ questions: all }, mine] = await Promise.all([get('/security-questions'), get('/account/security-questions')]);
  return { all, mine, text: (id) => all.find((q) => q.id === id)?.text || id };
}

export async function securityQuestions() {
  const box = h('div', {});
  page('security.title', h('p', {}, t('security.text')), h('p', { class: 'notice' }, t('security.wait')), box);
  const { all, mine, text } = await questions();
  if (mine.locked_until) append(box, h('p', { class: 'notice' }, t('security.locked', { date: date(mine.locked_until, true) })));
  const fields = [];
  if (mine.questions.length) {
    append(box, h('p', {}, t('security.defined', { count: mine.questions.length })));
    mine.questions.forEach((id, i) => fields.push({ name: `current_${i}`, labelNode: `${t('security.current')} — ${text(id)}`, label: 'security.current', autocomplete: 'off' }));
  }
  for (let i = 0; i < 3; i++) {
    fields.push({ name: `question_${i}`, label: 'security.question', labelNode: t('security.question', { n: i + 1 }), type: 'select', value: all[i]?.id, options: all.map((q) => ({ value: q.id, text: q.text })) },
      { name: `answer_${i}`, label: 'security.answer', labelNode: t('security.answer', { n: i + 1 }), autocomplete: 'off' });
  }
  append(box, form({
    fields,
    submit: 'security.submit',
    fieldOf: { security_questions_invalid: 'question_0', security_answers_wrong: 'current_0' },
    onSubmit: async (v) => {
      const answers = [0, 1, 2].map((i) => ({ question: v[`question_${i}`], answer: v[`answer_${i}`] }));
      const body = { answers };
      if (mine.questions.length) body.current_answers = mine.questions.map((id, i) => ({ question: id, answer: v[`current_${i}`] }));
      await put('/account/security-questions', body);
      replaceChildren(box, h('p', { class: 'success', role: 'status' }, t('security.done')), h('p', {}, link('/account', t('nav.account'))));
    },
  }));
}
