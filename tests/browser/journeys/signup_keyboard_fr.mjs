// Sign-up in French, entirely by keyboard (Tab, typing, Space and Enter; no click): the
// email, "check your mailbox", the link's page with the prefilled profile, password, phone
// and SMS, the code with "send a new code" and its wait, then the first sign-in.
import { lastTo, newestId, codeOf, linkOf, expect, DEMO_PASSWORD } from '../lib.mjs';

const EMAIL = 'subscriber@example.com';
const PHONE = '+1 514 555 0144';

/** Presses Tab until the focused element's accessible label matches `name` (at most 40 times). */
async function tabTo(page, name) {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    const label = await page.evaluate(() => {
      const el = document.activeElement;
      const labelled = el.labels?.[0]?.textContent || el.getAttribute('aria-label') || el.textContent || '';
      return labelled.trim();
    });
    if (name.test(label)) return;
  }
  throw new Error(`${name} cannot be reached by Tab`);
}

export default async function signupKeyboardFr(j, base) {
  const { page } = j;
  await page.goto(`${base}/`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  await tabTo(page, /^Créer un compte$/);
  await j.shot('accueil');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Créer votre compte' }).waitFor();
  await tabTo(page, /^Adresse courriel$/);
  await page.keyboard.type(EMAIL);
  await j.shot('courriel');
  const since = await newestId(base);
  await page.keyboard.press('Enter');
  await page.getByText(/Consultez votre boîte de réception/).waitFor();
  await j.shot('boite-de-reception');

  const mail = await lastTo(base, EMAIL, { since });
  expect(mail.language === 'fr' || /Bonjour|inscription/i.test(mail.body), 'the email is in French');
  await page.goto(linkOf(mail, base, '/signup/verify'));
  await page.getByRole('heading', { name: 'Votre profil' }).waitFor();
  expect((await page.getByLabel('Prénom').inputValue()).length > 0, 'the profile is prefilled from the subscriber record');
  await j.shot('profil-prerempli');
  await tabTo(page, /^Nouveau mot de passe$/);
  await page.keyboard.type(DEMO_PASSWORD);
  await tabTo(page, /^Téléphone mobile$/);
  await page.keyboard.type(PHONE);
  await tabTo(page, /par texto/);
  await page.keyboard.press('Space');
  await j.shot('profil-rempli');
  let sent = await newestId(base);
  await tabTo(page, /^M’envoyer un code$/);
  await page.keyboard.press('Enter');
  await page.getByText(/Un code a été envoyé par texto/).waitFor();
  expect(await page.getByRole('button', { name: 'Par appel' }).isDisabled(), '"send a new code" waits');
  expect(await page.getByText(/Vous pourrez demander un nouveau code dans \d+ s/).isVisible(), 'the wait is said');
  await j.shot('code');
  const code = codeOf(await lastTo(base, PHONE, { since: sent }));
  await page.keyboard.type(code);
  await page.keyboard.press('Enter');
  await page.getByText('Votre compte est prêt. Vous pouvez vous connecter.').waitFor();
  await j.shot('compte-pret');

  // The first sign-in, by keyboard too: the focus is on the link to it.
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Connexion' }).waitFor();
  await tabTo(page, /^Adresse courriel ou identifiant$/);
  await page.keyboard.type(EMAIL);
  await tabTo(page, /^Mot de passe$/);
  await page.keyboard.type(DEMO_PASSWORD);
  sent = await newestId(base);
  await page.keyboard.press('Enter');
  await page.getByLabel('Code').waitFor();
  await j.shot('second-facteur');
  await page.keyboard.type(codeOf(await lastTo(base, PHONE, { since: sent })));
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Mes abonnements' }).waitFor();
  await page.getByText(/Vous êtes dans votre espace personnel/).waitFor();
  await j.shot('tableau-de-bord');
  // The focus is visible wherever it goes.
  await tabTo(page, /^Fermer ce bandeau$/);
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  expect(outline !== 'none', 'the focus is visible');
  await page.keyboard.press('Enter');
  expect(!(await page.getByText(/Vous êtes dans votre espace personnel/).isVisible()), 'the banner closes');
  await j.shot('bandeau-ferme');
}
