// The acceptance journey, in English: the demo member signs in (code by SMS), chooses a
// space, renews by card through the payment page, recovers and activates the signature,
// and changes the login email: all by clicking.
import { DEMO_PASSWORD, lastTo, newestId, codeOf, linkOf, expect } from '../lib.mjs';

const PHONE = '+1 514 555 0101';

export async function signIn(j, base, { email = 'member@example.com', phone = PHONE, space = /Demo Member|personal/i, here = false } = {}) {
  const { page } = j;
  const since = await newestId(base);
  if (!here) await page.goto(`${base}/login`);
  await page.getByLabel(/Email address or identifier|Adresse courriel ou identifiant/).fill(email);
  await page.getByLabel(/^(Password|Mot de passe)$/).fill(DEMO_PASSWORD);
  await j.shot('login');
  await page.getByRole('button', { name: /^(Sign in|Se connecter)$/ }).click();
  await page.getByLabel(/^Code$/).waitFor();
  await j.shot('second-factor');
  await page.getByLabel(/^Code$/).fill(codeOf(await lastTo(base, phone, { since })));
  await page.getByRole('button', { name: /^(Confirm|Confirmer)$/ }).click();
  if (space) {
    await page.getByRole('radio', { name: space }).first().waitFor();
    await j.shot('choose-space');
    await page.getByRole('radio', { name: space }).first().check();
    await page.getByRole('button', { name: /^(Continue|Continuer)$/ }).click();
  }
  if (!here) await page.getByRole('heading', { level: 1, name: /My subscriptions|Mes abonnements/ }).waitFor();
}

export default async function demoMember(j, base) {
  const { page } = j;
  await signIn(j, base);
  await page.getByText(/You are in your personal space/).waitFor();
  await j.shot('dashboard');

  // Renewal by card: the draft invoice, the terms, the payment page, back with the result.
  const renewable = page.locator('li.card', { hasText: /Ends on/ }).filter({ hasText: /Functional/ }).first();
  await renewable.getByRole('link', { name: 'Renew' }).click();
  await page.getByRole('radio', { name: 'By card' }).check();
  await j.shot('renew-options');
  await page.getByRole('button', { name: 'See the invoice' }).click();
  await page.getByText('Draft invoice').waitFor();
  await j.shot('draft-invoice');
  const terms = await page.getByRole('link', { name: /terms of sale/ }).getAttribute('href');
  await page.getByRole('button', { name: 'Pay by card' }).click();
  await page.getByRole('checkbox').waitFor();
  expect(await page.getByText('Accept the terms of sale to go on.').isVisible(), 'the terms must be accepted first');
  await page.getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Pay by card' }).click();
  await page.waitForURL(/\/_pay\//);
  await j.shot('payment-page');
  await page.getByLabel(/Card number/i).fill('4242 4242 4242 4242');
  await page.getByRole('button', { name: /Pay/ }).click();
  await page.waitForURL(/\/renewals\/.*paid=1/);
  await page.getByText(/^Paid: your subscription now ends on/).waitFor();
  await j.shot('renewal-paid');
  await page.getByRole('link', { name: 'See the invoice and receipt' }).click();
  await page.getByRole('heading', { name: /^Invoice / }).waitFor();
  await j.shot('invoice');
  const pdf = await page.getByRole('link', { name: 'Receipt (PDF)' }).getAttribute('href');
  const response = await page.request.get(base + pdf);
  expect(response.ok() && (await response.body()).subarray(0, 5).toString() === '%PDF-', `receipt PDF: ${response.status()}`);
  await page.locator('#main').getByRole('link', { name: 'Invoices', exact: true }).click();
  await page.getByRole('table').waitFor();
  await j.shot('invoices');

  // The same subscription again, billed to the organisation: invoiced at once.
  await page.goto(`${base}/dashboard`);
  await page.locator('li.card', { hasText: /Functional/ }).first().getByRole('link', { name: 'Renew' }).click();
  await page.getByRole('radio', { name: 'Bill my organisation' }).check();
  await page.getByLabel('Organisation to bill').selectOption({ label: 'Example Organisation' });
  await page.getByRole('button', { name: 'See the invoice' }).click();
  await page.getByRole('checkbox').check();
  await j.shot('bill-my-organisation');
  await page.getByRole('button', { name: 'Bill my organisation' }).click();
  await page.getByText(/^Invoiced to your organisation: your subscription now ends on/).waitFor();
  await j.shot('renewal-invoiced');
  await page.goto(base + terms);
  await page.getByText(/^Version /).waitFor();
  await j.shot('terms-of-sale');

  // Recovery, then activation from the email's button.
  await page.goto(`${base}/dashboard`);
  const broken = page.locator('li.card', { hasText: 'Needs to be updated' }).first();
  await broken.getByRole('link', { name: 'Recover my signature' }).click();
  await page.getByRole('radio', { name: /my login address/ }).check();
  await j.shot('recover-confirm');
  let since = await newestId(base);
  await page.getByRole('button', { name: 'Confirm the recovery' }).click();
  await page.getByText(/The reference number was emailed to/).waitFor();
  await j.shot('recover-sent');
  const email = await lastTo(base, 'member@example.com', { since });
  // The email's button, signed out: sign in first, then back to the activation.
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.goto(linkOf(email, base, '/activation'));
  await page.getByText('Sign in first; you will then come back to this page.').waitFor();
  await signIn(j, base, { here: true });
  since = await newestId(base);
  await page.getByLabel('Reference number').waitFor();
  expect((await page.getByLabel('Reference number').inputValue()).length > 5, 'the reference comes from the link');
  await j.shot('activation');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Code').waitFor();
  await page.getByLabel('Code').fill(codeOf(await lastTo(base, PHONE, { since })));
  await page.getByLabel('PIN of the signature').fill('4071');
  await page.getByLabel('The PIN again').fill('4071');
  await j.shot('activation-code');
  await page.getByRole('button', { name: 'Activate' }).click();
  await page.getByText('Your signature is activated and functional.').waitFor();
  await j.shot('activation-done');

  // The login email: a link to the new address, then the second factor.
  await page.getByRole('link', { name: 'My account' }).first().click();
  await page.getByLabel('New login email').fill('member.new@example.com');
  await j.shot('account');
  since = await newestId(base);
  await page.getByRole('button', { name: 'Change my login email' }).click();
  await page.getByText(/A link was sent to member.new@example.com/).waitFor();
  const link = linkOf(await lastTo(base, 'member.new@example.com', { since }), base, '/account/email/verify');
  since = await newestId(base);
  await page.goto(link);
  await page.getByLabel('Code').waitFor();
  await j.shot('email-verify');
  await page.getByLabel('Code').fill(codeOf(await lastTo(base, PHONE, { since })));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByText('You now sign in with member.new@example.com.').waitFor();
  await j.shot('email-changed');
}
