// Organisations (seed 003): registration without an account; the space's page: its details
// and terms, its members and their roles, the legal representative and the billing contact,
// invitations, and an administrator's reset of a member's second factor (seed 004).
import { t, date, lang } from '../lib/i18n.js';
import { h, append, replaceChildren, page, form, action } from '../lib/ui.js';
import { get, post, put, del } from '../lib/api.js';
import { withReauth } from '../lib/factor.js';

const ROLES = ['administrator', 'legal_representative', 'billing_contact', 'agent', 'server_certificate_contact', 'user'];

export function register() {
  const box = h('div', {});
  page('register.title', h('p', {}, t('register.text')), box);
  const registry = h('p', { class: 'hint', 'aria-live': 'polite' });
  const theForm = form({
    fields: [
      { name: 'jurisdiction', label: 'register.jurisdiction', type: 'select', value: 'france', options: ['france', 'european_union', 'other'].map((v) => ({ value: v, label: `jurisdiction.${v}` })) },
      { name: 'country', label: 'register.country', value: 'FR', autocomplete: 'country', hint: 'renew.country_hint' },
      { name: 'registration_number', label: 'register.number', hint: 'register.number_hint' },
      { name: 'entity_type', label: 'register.entity_type', type: 'select', value: 'company', options: ['company', 'administration', 'association'].map((v) => ({ value: v, label: `entity.${v}` })) },
      { name: 'name', label: 'register.name', autocomplete: 'organization' },
      { name: 'address', label: 'register.address', autocomplete: 'street-address' },
      { name: 'postal_code', label: 'register.postal_code', autocomplete: 'postal-code' },
      { name: 'city', label: 'register.city', autocomplete: 'address-level2' },
      { name: 'department', label: 'register.department', required: false, hint: 'register.department_hint' },
      { name: 'phone', label: 'register.phone', type: 'tel', autocomplete: 'tel' },
      { name: 'fax', label: 'register.fax', type: 'tel', required: false },
      { name: 'administrator.first_name', label: 'field.first_name', autocomplete: 'given-name' },
      { name: 'administrator.last_name', label: 'field.last_name', autocomplete: 'family-name' },
      { name: 'administrator.email', label: 'register.admin_email', type: 'email', autocomplete: 'email' },
      { name: 'administrator.email_confirmation', label: 'register.admin_email_again', type: 'email', autocomplete: 'email' },
      { name: 'administrator.phone', label: 'register.admin_phone', type: 'tel', autocomplete: 'tel' },
    ],
    submit: 'register.submit',
    fieldOf: { invalid_siret: 'registration_number', siret_checksum: 'registration_number', siret_unknown: 'registration_number', establishment_closed: 'registration_number', invalid_vat_number: 'registration_number', invalid_registration_number: 'registration_number', organisation_exists: 'registration_number', email_mismatch: 'administrator.email_confirmation', invalid_country: 'country' },
    onSubmit: async (v) => {
      const body = { administrator: {}, locale: lang() };
      for (const [key, value] of Object.entries(v)) {
        if (key.startsWith('administrator.')) body.administrator[key.slice(14)] = value;
        else body[key] = value === '' && (key === 'department' || key === 'fax') ? null : value;
      }
      body.country = body.country.toUpperCase();
      await post('/organisations', body);
      replaceChildren(box, h('p', { class: 'success', role: 'status' }, t('register.done', { email: body.administrator.email })), h('p', {}, t('register.next')));
    },
  });
  // A French SIRET: the registry's name and address, filled in as soon as it is typed.
  const number = theForm.querySelector('[name=registration_number]');
  number.addEventListener('change', async () => {
    const siret = number.value.replace(/\s/g, '');
    if (theForm.querySelector('[name=jurisdiction]').value !== 'france' || !/^\d{14}$/.test(siret)) return;
    try {
      const found = await get(`/organisations/registry/${siret}`);
      for (const key of ['name', 'address', 'postal_code', 'city']) theForm.querySelector(`[name=${key}]`).value = found[key];
      registry.textContent = t('register.registry_found', { name: found.name });
    } catch (error) {
      registry.textContent = error.message;
    }
  });
  number.closest('.field').append(registry);
  append(box, theForm);
}

const roleNames = (roles) => roles.map((r) => t(`role.${r}`)).join(', ');

export async function organisation() {
  const reauth = h('div', {});
  const box = h('div', {});
  page('organisation.title', reauth, box);
  const org = await get('/organisation');
  const mine = org.my_roles;
  const admin = mine.includes('administrator');
  append(box, h('section', { class: 'card' }, h('h2', {}, org.name),
    h('p', {}, `${org.registration.number} · ${org.address}, ${org.postal_code} ${org.city}`),
    h('p', {}, t('organisation.my_roles', { roles: roleNames(mine) })),
    h('p', {}, t(`organisation.terms_${org.terms.status}`, { version: org.terms.version || org.terms_version })),
    org.terms.status !== 'contracted' && org.terms.version !== org.terms_version && mine.includes('legal_representative')
      ? action({ text: t('organisation.accept_terms', { version: org.terms_version }) }, async () => { await post('/organisation/terms', { version: org.terms_version }); organisation(); })
      : null));
  if (!admin) return;
  const { members } = await get('/organisation/members');
  append(box, h('section', { class: 'card' }, h('h2', {}, t('organisation.members')), h('ul', { class: 'list' }, members.map((m) => member(m, reauth)))));
  append(box, h('section', { class: 'card' }, h('h2', {}, t('organisation.appoint')), appoint(members)));
  const { invitations } = await get('/organisation/invitations');
  append(box, h('section', { class: 'card' }, h('h2', {}, t('organisation.invitations')),
    invitations.length ? h('ul', { class: 'list' }, invitations.map(invitation)) : h('p', {}, t('organisation.no_invitations')), invite()));
}

function member(m, reauth) {
  const name = `${m.first_name} ${m.last_name}`;
  const status = h('p', { role: 'status', class: 'hint' });
  const roles = form({
    fields: [{ name: 'roles', label: 'organisation.roles_of', type: 'checkboxes', value: m.roles, options: ROLES.map((r) => ({ value: r, label: `role.${r}` })) }],
    submit: 'organisation.save_roles',
    onSubmit: async ({ roles: chosen }) => {
      await put(`/organisation/members/${encodeURIComponent(m.person_id)}/roles`, { roles: chosen });
      status.textContent = t('organisation.saved');
    },
  });
  return h('li', { class: 'card' }, h('h3', {}, name), h('p', {}, `${m.email}${m.identifier ? ` · ${m.identifier}` : ''}${m.setup_pending ? ` · ${t('organisation.setup_pending')}` : ''}`),
    h('details', {}, h('summary', {}, t('organisation.change_roles', { name })), roles), status,
    h('div', { class: 'actions' },
      action({ text: t('organisation.reset_factor') }, async () => {
        await withReauth(reauth, () => post(`/organisation/members/${encodeURIComponent(m.person_id)}/second-factor/reset`));
        status.textContent = t('organisation.factor_reset', { name });
      }, { class: 'secondary', 'aria-label': `${t('organisation.reset_factor')} — ${name}` }),
      action({ text: t('organisation.remove') }, async () => {
        if (!window.confirm(t('organisation.remove_confirm', { name }))) return;
        await del(`/organisation/members/${encodeURIComponent(m.person_id)}`);
        organisation();
      }, { class: 'secondary', 'aria-label': `${t('organisation.remove')} — ${name}` })));
}

function appoint(members) {
  return form({
    fields: [
      { name: 'role', label: 'organisation.appoint_role', type: 'radio', value: 'legal_representative', options: [{ value: 'legal_representative', label: 'role.legal_representative' }, { value: 'billing_contact', label: 'role.billing_contact' }] },
      { name: 'person_id', label: 'organisation.appoint_member', type: 'select', required: false, options: [{ value: '', label: 'organisation.appoint_someone_else' }, ...members.map((m) => ({ value: m.person_id, text: `${m.first_name} ${m.last_name}` }))] },
      { name: 'email', label: 'organisation.appoint_email', type: 'email', required: false, hint: 'organisation.appoint_email_hint' },
    ],
    submit: 'organisation.appoint_submit',
    onSubmit: async ({ role, person_id, email }) => {
      const body = person_id ? { person_id } : { email };
      await post(`/organisation/${role === 'billing_contact' ? 'billing-contact' : 'legal-representative'}`, body);
      organisation();
    },
  });
}

function invitation(i) {
  return h('li', {}, h('p', {}, `${i.email} — ${roleNames(i.roles)} · ${t('organisation.expires', { date: date(i.expires_at) })}`),
    h('div', { class: 'actions' },
      action({ text: t('organisation.resend') }, async () => { await post(`/organisation/invitations/${encodeURIComponent(i.id)}/resend`); organisation(); }, { class: 'secondary', 'aria-label': `${t('organisation.resend')} — ${i.email}` }),
      action({ text: t('organisation.cancel_invitation') }, async () => { await del(`/organisation/invitations/${encodeURIComponent(i.id)}`); organisation(); }, { class: 'secondary', 'aria-label': `${t('organisation.cancel_invitation')} — ${i.email}` })));
}

function invite() {
  return h('div', {}, h('h3', {}, t('organisation.invite')), form({
    fields: [
      { name: 'email', label: 'field.email', type: 'email', autocomplete: 'off' },
      { name: 'roles', label: 'organisation.roles', type: 'checkboxes', value: ['user'], options: ROLES.map((r) => ({ value: r, label: `role.${r}` })) },
    ],
    submit: 'organisation.invite_submit',
    onSubmit: async ({ email, roles }) => { await post('/organisation/invitations', { email, roles, locale: lang() }); organisation(); },
  }));
}
