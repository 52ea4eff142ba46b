// Renewal (product and payment mode → the draft invoice with its taxes → the terms of sale →
// the payment page → back here with the result → the receipt), invoices and receipts with
// their PDFs, and the terms of sale themselves.
import { t, date, money, lang } from '../lib/i18n.js';
import { h, append, prepend, link, page, form } from '../lib/ui.js';
import { get, post, API } from '../lib/api.js';
import { navigate } from '../app.js';

const TERMS_VERSION = '2026-01';

export async function renew({ params: [id] }) {
  const box = h('div', {});
  page('renew.title', box);
  const options = await get(`/subscriptions/${encodeURIComponent(id)}/renewal`);
  const currency = Object.keys(options.products[0]?.prices || { EUR: 0 })[0];
  const fields = [
    { name: 'product', label: 'renew.product', type: 'radio', value: options.products[0]?.code,
      options: options.products.map((p) => ({ value: p.code, text: `${p.name} — ${Object.entries(p.prices).map(([c, a]) => money(a, c)).join(' / ')}` })) },
    { name: 'payment_mode', label: 'renew.payment_mode', type: 'radio', value: options.payment_modes[0],
      options: options.payment_modes.map((m) => ({ value: m, label: `payment.${m}` })) },
  ];
  if (options.organisations.length) {
    fields.push({ name: 'organisation_id', label: 'renew.organisation', type: 'select', required: false,
      options: options.organisations.map((o) => ({ value: o.id, text: o.name })) });
  }
  if (!options.billing) {
    fields.push({ name: 'country', label: 'renew.country', autocomplete: 'country', hint: 'renew.country_hint' },
      { name: 'region', label: 'renew.region', required: false, hint: 'renew.region_hint' });
  }
  const theForm = form({
    fields,
    submit: 'renew.draft',
    fieldOf: { billing_address_required: 'country', payment_mode_unavailable: 'payment_mode' },
    onSubmit: async (values) => {
      const body = { product: values.product, payment_mode: values.payment_mode };
      if (values.payment_mode === 'organisation') body.organisation_id = values.organisation_id;
      if (!options.billing) body.billing = { country: values.country.toUpperCase(), region: values.region || null };
      const renewal = await post(`/subscriptions/${encodeURIComponent(id)}/renewals`, body);
      navigate(`/renewals/${encodeURIComponent(renewal.id)}`);
    },
  });
  // The organisation to bill matters only when billing one.
  const organisation = theForm.querySelector('[data-field=organisation_id]');
  const mode = () => theForm.querySelector('[name=payment_mode]:checked')?.value;
  const follow = () => { if (organisation) organisation.hidden = mode() !== 'organisation'; };
  theForm.addEventListener('change', follow);
  follow();
  append(box, h('p', {}, t('renew.text', { date: date(options.term_end) })), theForm, h('p', { class: 'hint' }, t('renew.currency', { currency })));
}

function amounts(invoice) {
  const row = (label, amount, attrs = {}) => h('tr', attrs, h('th', { scope: 'row' }, label), h('td', { class: 'num' }, money(amount, invoice.currency)));
  return h('table', {}, h('caption', { class: 'visually-hidden' }, t('invoice.amounts')),
    h('tbody', {},
      invoice.lines.map((l) => row(`${l.description} × ${l.quantity}`, l.amount)),
      row(t('invoice.subtotal'), invoice.subtotal),
      invoice.taxes.map((x) => row(`${x.name} (${x.rate} %)`, x.amount)),
      row(t('invoice.total'), invoice.total, { class: 'total' })),
  );
}

export async function renewal({ params: [id], query }) {
  const box = h('div', {});
  page('renewal.title', box);
  let r = await get(`/renewals/${encodeURIComponent(id)}`);
  // Back from the payment page: its notification may still be on its way.
  for (let i = 0; query.get('paid') === '1' && r.state === 'awaiting_payment' && i < 10; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    r = await get(`/renewals/${encodeURIComponent(id)}`);
  }
  append(box, h('p', {}, h('span', { class: `state ${r.state}` }, t(`renewalstate.${r.state}`))),
    h('h2', {}, t(r.state === 'draft' || r.state === 'awaiting_payment' ? 'renewal.invoice' : 'renewal.invoice_final')), h('p', {}, `${r.buyer.name} · ${r.buyer.country}${r.buyer.region ? `-${r.buyer.region}` : ''}`),
    amounts(r.invoice), r.invoice.reverse_charge_mention ? h('p', { class: 'hint' }, r.invoice.reverse_charge_mention) : null);
  if (r.state === 'draft') {
    append(box, form({
      fields: [{ name: 'accept', type: 'checkbox', label: 'renewal.accept', labelNode: h('span', {}, t('renewal.accept_before'), ' ',
        h('a', { href: `/terms-of-sale?version=${encodeURIComponent(r.terms.version)}`, target: '_blank', rel: 'noopener' }, t('renewal.terms_link', { version: r.terms.version }))) }],
      submit: r.payment_mode === 'card' ? 'renewal.pay' : 'renewal.bill',
      fieldOf: { terms_not_accepted: 'accept' },
      onSubmit: async ({ accept }) => {
        if (!accept) throw Object.assign(new Error(t('renewal.accept_needed')), { field: 'accept' });
        const next = await post(`/renewals/${encodeURIComponent(id)}/submit`, { accept_terms: true, terms_version: r.terms.version });
        if (next.checkout_url) window.location.assign(next.checkout_url);
        else navigate(`/renewals/${encodeURIComponent(id)}`, { replace: true });
      },
    }), h('p', {}, h('button', { type: 'button', class: 'link', onclick: async () => {
      if (!window.confirm(t('renewal.cancel_confirm'))) return;
      await post(`/renewals/${encodeURIComponent(id)}/cancel`);
      navigate('/dashboard');
      announce(t('renewal.cancelled'));
    } }, t('renewal.cancel'))));
  } else if (r.state === 'awaiting_payment' && r.checkout_url) {
    append(box, h('p', { class: 'notice', role: 'status' }, t('renewal.awaiting')), h('p', {}, h('a', { href: r.checkout_url, class: 'button' }, t('renewal.to_payment'))));
  } else if (r.state === 'paid' || r.state === 'invoiced') {
    const message = t(r.state === 'paid' ? 'renewal.paid' : 'renewal.invoiced', { date: date(r.term_end) });
    prepend(box, h('p', { class: 'success', role: 'status' }, message));
    if (r.invoice_number) append(box, h('p', { class: 'actions' }, link(`/invoices/${encodeURIComponent(r.invoice_number)}`, t('renewal.receipt'), { class: 'button' })));
  }
  append(box, h('p', {}, link('/dashboard', t('common.back'))));
}

const pdf = (path, text, number) =>
  h('a', { href: `${API}${path}`, download: '', type: 'application/pdf', 'aria-label': t('invoices.files_of', { file: text, number }) }, text);

export async function invoices() {
  const box = h('div', {});
  page('invoices.title', box);
  const { invoices: list } = await get('/invoices');
  if (!list.length) return append(box, h('p', {}, t('invoices.none')));
  append(box, h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, ['invoices.number', 'invoices.date', 'invoices.total', 'invoices.status', 'invoices.files'].map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, list.map((i) => {
      const n = encodeURIComponent(i.number);
      return h('tr', {}, h('td', {}, link(`/invoices/${n}`, i.number)), h('td', {}, date(i.issued_at)), h('td', { class: 'num' }, money(i.total, i.currency)),
        h('td', {}, t(`settlement.${i.settlement.status}`)),
        h('td', {}, h('span', { class: 'actions' }, pdf(`/invoices/${n}/pdf`, t('invoices.invoice_pdf'), i.number), i.settlement.status === 'paid' ? pdf(`/invoices/${n}/receipt/pdf`, t('invoices.receipt_pdf'), i.number) : null)));
    })))));
}

export async function invoice({ params: [number] }) {
  const box = h('div', {});
  page({ text: t('invoice.title', { number }) }, box);
  const n = encodeURIComponent(number);
  const i = await get(`/invoices/${n}`);
  append(box, h('p', {}, t('invoice.issued', { date: date(i.issued_at) })), h('p', {}, `${i.buyer.name} · ${i.buyer.email}`), amounts(i),
    h('p', {}, t(`settlement.${i.settlement.status}`), i.settlement.status === 'paid' ? ` · ${date(i.settlement.paid_at, true)} · ${i.settlement.reference}` : ''),
    h('p', { class: 'actions' }, pdf(`/invoices/${n}/pdf`, t('invoices.invoice_pdf'), number), i.settlement.status === 'paid' ? pdf(`/invoices/${n}/receipt/pdf`, t('invoices.receipt_pdf'), number) : null),
    h('p', {}, link('/invoices', t('nav.invoices'))));
}

export function terms({ query }) {
  const version = query.get('version') || TERMS_VERSION;
  const fr = lang() === 'fr';
  page('terms.title', h('p', { class: 'notice' }, t('terms.version', { version })),
    ...(fr ? TERMS_FR : TERMS_EN).map(([title, text]) => [h('h2', {}, title), h('p', {}, text)]).flat());
}

const TERMS_EN = [
  ['1. Purpose', 'These terms govern the sale and renewal of cloud signature subscriptions by Signet to subscribers and organisations.'],
  ['2. Price and taxes', 'Prices are shown before taxes; the taxes of the buyer\'s jurisdiction are added on the invoice, which is numbered without gaps.'],
  ['3. Payment', 'By card through the payment provider\'s hosted page, or, for an organisation enabled for invoicing, on invoice payable within 30 days.'],
  ['4. Term', 'A renewal extends the subscription\'s term by the product\'s duration, from the end of the current term.'],
  ['5. Certificates', 'Certificates are issued and revoked under the certificate authority\'s policy; a lost key is replaced through recovery and activation.'],
  ['6. Acceptance', 'Accepting these terms records their version, the time and the source address of the acceptance.'],
];
const TERMS_FR = [
  ['1. Objet', 'Les présentes conditions régissent la vente et le renouvellement des abonnements de signature infonuagique par Signet aux abonnés et aux organisations.'],
  ['2. Prix et taxes', 'Les prix sont indiqués hors taxes ; les taxes de la juridiction de l\'acheteur sont ajoutées sur la facture, numérotée sans rupture.'],
  ['3. Paiement', 'Par carte sur la page hébergée du prestataire de paiement ou, pour une organisation autorisée à la facturation, sur facture payable sous 30 jours.'],
  ['4. Durée', 'Un renouvellement prolonge l\'abonnement de la durée du produit, à compter de la fin de la période en cours.'],
  ['5. Certificats', 'Les certificats sont délivrés et révoqués selon la politique de l\'autorité de certification ; une clé perdue est remplacée par la récupération et l\'activation.'],
  ['6. Acceptation', 'L\'acceptation des présentes conditions enregistre leur version, l\'heure et l\'adresse d\'origine de l\'acceptation.'],
];
