// Organisations (seeds 003 and 004), the administrator in French (the language switch),
// the new member in English: registration with the registry's details, the identifier and
// the temporary password in two emails, the forced first sign-in (a new password, then a
// phone), the terms, an invitation accepted with a new account, "no access to the app",
// and the administrator's reset of the member's second factor with its enrolment link.
import { lastTo, newestId, codeOf, linkOf, expect } from '../lib.mjs';

const ADMIN = 'registrant@example.org';
const ADMIN_PHONE = '+1 514 555 0188';
const MEMBER = 'new.member@example.org';
const MEMBER_PHONE = '+1 514 555 0189';
const PASSWORD = 'organisation portal passphrase';

async function phoneSetup(j, page, base, phone, labels) {
  await page.getByRole('radio', { name: labels.byPhone }).check();
  await page.getByRole('button', { name: labels.continue }).click();
  await page.getByLabel(labels.phone).fill(phone);
  const since = await newestId(base);
  await page.getByRole('button', { name: labels.sendCode }).click();
  await page.getByLabel('Code').fill(codeOf(await lastTo(base, phone, { since })));
  await j.shot(labels.shot);
  await page.getByRole('button', { name: labels.confirm }).click();
}

const FR = { byPhone: 'Un code par texto ou appel', continue: 'Continuer', phone: 'Téléphone mobile', sendCode: 'M’envoyer un code', confirm: 'Confirmer' };
const EN = { byPhone: 'A code by text message or call', continue: 'Continue', phone: 'Mobile phone', sendCode: 'Send me a code', confirm: 'Confirm' };

export default async function organisation(j, base, browser) {
  const { page } = j;
  await page.goto(`${base}/organisations/register`);
  await page.getByRole('heading', { name: 'Register an organisation' }).waitFor();
  await page.getByRole('button', { name: 'Afficher en français' }).click();
  await page.getByRole('heading', { name: 'Inscrire une organisation' }).waitFor();
  await page.getByLabel('Numéro d’immatriculation').fill('12345678200010');
  await page.getByLabel('Numéro d’immatriculation').blur();
  await page.getByText('Trouvé au répertoire : EXAMPLE INDUSTRIES.').waitFor();
  expect((await page.getByLabel('Raison sociale').inputValue()) === 'EXAMPLE INDUSTRIES', 'the registry fills the name');
  await page.getByLabel('Département').fill('13');
  await page.getByLabel('Téléphone', { exact: true }).fill('+1 555 010 0200');
  await page.getByLabel('Prénom').fill('Demo');
  await page.getByLabel('Nom', { exact: true }).fill('Registrant');
  await page.getByLabel('Courriel de l’administrateur', { exact: true }).fill(ADMIN);
  await page.getByLabel('Courriel de l’administrateur, de nouveau').fill('registrant@example.com');
  await page.getByLabel('Téléphone de l’administrateur').fill('+1 555 010 0201');
  await page.getByRole('button', { name: 'Inscrire' }).click();
  // Typed twice, the address must match: the error is next to its field.
  await page.locator('[data-field="administrator.email_confirmation"] .error').waitFor();
  await j.shot('inscription-erreur');
  await page.getByLabel('Courriel de l’administrateur, de nouveau').fill(ADMIN);
  let since = await newestId(base);
  await page.getByRole('button', { name: 'Inscrire' }).click();
  await page.getByText(/L’organisation est inscrite/).waitFor();
  await j.shot('inscription-faite');
  const identifier = (await lastTo(base, ADMIN, { since, subject: /identifiant/ })).body.match(/\b([A-Z]{2}\d{6})\b/)[1];
  const temporary = (await lastTo(base, ADMIN, { since, subject: /temporaire/ })).body.match(/temporaire : (\S+)/)[1];

  // The first sign-in: the identifier and the temporary password, a new password, a phone.
  await page.getByRole('link', { name: 'Se connecter' }).first().click();
  await page.getByLabel('Adresse courriel ou identifiant').fill(identifier);
  await page.getByRole('textbox', { name: 'Mot de passe', exact: true }).fill(temporary);
  await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
  await page.getByRole('heading', { name: 'Choisissez votre mot de passe' }).waitFor();
  await j.shot('premiere-connexion');
  await page.getByLabel('Nouveau mot de passe').fill(PASSWORD);
  await page.getByRole('button', { name: 'Enregistrer mon mot de passe' }).click();
  await page.getByRole('heading', { name: 'Protégez votre compte par un second facteur' }).waitFor();
  await j.shot('second-facteur-a-configurer');
  await phoneSetup(j, page, base, ADMIN_PHONE, { ...FR, shot: 'telephone-code' });
  await page.getByRole('heading', { name: 'Mes abonnements' }).waitFor();
  await page.getByText('Vous êtes dans l’espace de EXAMPLE INDUSTRIES.').waitFor();
  await j.shot('tableau-de-bord');

  // The organisation: its terms, then an invitation.
  await page.getByRole('link', { name: 'Mon organisation' }).click();
  await page.getByRole('heading', { name: 'EXAMPLE INDUSTRIES' }).waitFor();
  const accept = page.getByRole('button', { name: /Accepter les conditions/ });
  if (await accept.count()) {
    await accept.click();
    await page.getByText(/: acceptées\./).waitFor();
  }
  await page.locator('form', { hasText: 'Envoyer l’invitation' }).getByLabel('Adresse courriel').fill(MEMBER);
  since = await newestId(base);
  await page.getByRole('button', { name: 'Envoyer l’invitation' }).click();
  await page.getByText(new RegExp(`${MEMBER} — Utilisateur`)).waitFor();
  await j.shot('organisation-invitation');
  const invitation = linkOf(await lastTo(base, MEMBER, { since }), base, '/invitation');

  // The member, in English in a browser of their own: a new account, then its first sign-in.
  const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } });
  const member = await context.newPage();
  const shoot = async (label) => { j.page = member; await j.shot(label); j.page = page; };
  await member.goto(invitation);
  await member.getByRole('heading', { name: 'Join an organisation' }).waitFor();
  await member.getByLabel('First name').fill('Demo');
  await member.getByLabel('Last name').fill('Newcomer');
  await member.getByLabel('New password').fill(PASSWORD);
  await shoot('invitation-page');
  await member.getByRole('button', { name: 'Accept and create my account' }).click();
  await member.getByText('You are now a member of EXAMPLE INDUSTRIES.').waitFor();
  const memberId = (await member.getByText(/Your identifier:/).textContent()).match(/[A-Z]{2}\d{6}/)[0];
  await shoot('invitation-accepted');
  await member.getByRole('link', { name: 'Sign in' }).last().click();
  await member.getByLabel('Email address or identifier').fill(memberId);
  await member.getByRole('textbox', { name: 'Password', exact: true }).fill(PASSWORD);
  await member.getByRole('button', { name: 'Sign in', exact: true }).click();
  await member.getByRole('heading', { name: 'Protect your account with a second factor' }).waitFor();
  await phoneSetup({ shot: shoot }, member, base, MEMBER_PHONE, { ...EN, shot: 'member-phone' });
  await member.getByRole('heading', { name: 'My subscriptions' }).waitFor();
  await member.getByRole('button', { name: 'Sign out', exact: true }).click();

  // Seed 004: no access to the app; the administrators are told.
  await member.getByLabel('Email address or identifier').fill(memberId);
  await member.getByRole('textbox', { name: 'Password', exact: true }).fill(PASSWORD);
  await member.getByRole('button', { name: 'Sign in', exact: true }).click();
  await member.getByLabel('Code').waitFor();
  since = await newestId(base);
  member.once('dialog', (dialog) => dialog.accept());
  await member.getByRole('button', { name: 'I have no access to my app or my phone' }).click();
  await member.getByText(/administrators were told/).waitFor();
  await shoot('member-no-access');
  const notice = linkOf(await lastTo(base, ADMIN, { since }), base, '/organisation/members');

  // The administrator resets the member's factor, after confirming it is them.
  await page.goto(notice);
  await page.getByRole('heading', { name: 'Membres' }).waitFor();
  await page.getByRole('button', { name: 'Réinitialiser le second facteur — Demo Newcomer' }).click();
  await page.getByRole('heading', { name: 'Confirmez votre identité' }).waitFor();
  await page.getByRole('textbox', { name: 'Mot de passe', exact: true }).fill(PASSWORD);
  since = await newestId(base);
  await page.getByRole('button', { name: 'Continuer' }).click();
  await page.getByLabel('Code').fill(codeOf(await lastTo(base, ADMIN_PHONE, { since })));
  await j.shot('reauthentification');
  since = await newestId(base);
  await page.getByRole('button', { name: 'Confirmer', exact: true }).click();
  await page.getByText(/Le second facteur de Demo Newcomer est réinitialisé/).waitFor();
  await j.shot('facteur-reinitialise');

  // The member's enrolment link: sign in, then a new second factor.
  await member.goto(linkOf(await lastTo(base, MEMBER, { since }), base, '/login/enrol'));
  await member.getByRole('heading', { name: 'Set up a new second factor' }).waitFor();
  await member.getByLabel('Email address or identifier').fill(memberId);
  await member.getByRole('textbox', { name: 'Password', exact: true }).fill(PASSWORD);
  await member.getByRole('button', { name: 'Sign in', exact: true }).click();
  await member.getByRole('heading', { name: 'Protect your account with a second factor' }).waitFor();
  await shoot('member-enrol');
  await phoneSetup({ shot: shoot }, member, base, MEMBER_PHONE, { ...EN, shot: 'member-new-phone' });
  await member.getByRole('heading', { name: 'My subscriptions' }).waitFor();
  await context.close();

  // Security questions (they reset a forgotten PIN, and nothing else).
  await page.goto(`${base}/account/security`);
  await page.getByRole('heading', { name: 'Questions de sécurité' }).waitFor();
  const answers = page.getByLabel('Réponse');
  for (let i = 0; i < 3; i++) await answers.nth(i).fill(`réponse numéro ${i + 1}`);
  const questions = page.getByLabel(/^Question \d$/);
  const options = await questions.first().locator('option').evaluateAll((o) => o.map((x) => x.value));
  for (let i = 0; i < 3; i++) await questions.nth(i).selectOption(options[i]);
  await j.shot('questions-de-securite');
  await page.getByRole('button', { name: 'Enregistrer mes questions' }).click();
  await page.getByText('Vos questions de sécurité sont enregistrées.').waitFor();
}
