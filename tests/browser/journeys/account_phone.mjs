// My account at a phone's size, in English: the billing contact of the demo organisation
// (one space: no choice) sets up an authenticator app after a re-authentication (QR code,
// the ten backup codes once, their download), signs in with the app and with a backup code,
// adds an alternate address by its link, changes phone and password, sees their sessions and
// signs out everywhere; then forgot password and forgot identifier.
import { createHmac } from 'node:crypto';
import { DEMO_PASSWORD, lastTo, newestId, codeOf, linkOf, expect } from '../lib.mjs';

const EMAIL = 'billing@example.org';
const PHONE = '+1 514 555 0103';
const NEW_PHONE = '+1 514 555 0177';
const NEW_PASSWORD = 'a brand new portal passphrase';

/** The authenticator app's current code for a base32 secret (RFC 6238, SHA-1, 6 digits, 30 s). */
function totp(secret, offset = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30) + offset));
  const mac = createHmac('sha1', key).update(counter).digest();
  const at = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1e6).padStart(6, '0');
}

async function login(j, base, password, answer) {
  const { page } = j;
  await page.goto(`${base}/login`);
  await page.getByLabel('Email address or identifier').fill(EMAIL);
  await page.getByRole('textbox', { name: 'Password', exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByText(/Type the code shown by your authenticator app|A code was sent/).waitFor();
  await answer(page);
  await page.getByRole('heading', { level: 1, name: 'My subscriptions' }).waitFor();
}

/** "Confirm it is you": the password, then one of the backup codes. */
async function reauthenticateWithBackupCode(page, code) {
  await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor();
  await page.getByRole('textbox', { name: 'Password', exact: true }).fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('button', { name: 'Use a backup code' }).click();
  await page.getByLabel('Backup code').fill(code);
  await page.getByRole('button', { name: 'Confirm', exact: true }).click();
}

export default async function accountPhone(j, base) {
  const { page } = j;
  let since = await newestId(base);
  await login(j, base, DEMO_PASSWORD, async () => {
    await j.shot('login-code');
    await page.getByLabel('Code').fill(codeOf(await lastTo(base, PHONE, { since })));
    await page.getByRole('button', { name: 'Confirm' }).click();
  });
  await j.shot('dashboard');
  await page.getByText('You are in the space of Example Organisation.').waitFor();

  // The authenticator app, after the password and a code again.
  await page.getByRole('link', { name: 'My account' }).click();
  await page.getByRole('heading', { name: 'My account' }).waitFor();
  await j.shot('account');
  await page.getByRole('button', { name: 'Set up an app' }).click();
  await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor();
  await page.getByRole('textbox', { name: 'Password', exact: true }).fill(DEMO_PASSWORD);
  since = await newestId(base);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Code', { exact: true }).fill(codeOf(await lastTo(base, PHONE, { since })));
  await j.shot('reauthentication');
  await page.getByRole('button', { name: 'Confirm', exact: true }).click();
  await page.getByRole('heading', { name: 'Set up your authenticator app' }).waitFor();
  const codes = await page.locator('ul.codes li').allTextContents();
  expect(codes.length === 10, `ten backup codes, not ${codes.length}`);
  expect(await page.getByRole('img', { name: 'QR code of your authenticator key' }).isVisible(), 'the QR code shows');
  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download the codes' }).click();
  const file = await (await download).path();
  expect((await import('node:fs')).readFileSync(file, 'utf8').includes(codes[0]), 'the download holds the codes');
  const secret = await page.locator('code').textContent();
  await j.shot('app-enrolment');
  await page.getByLabel('Code shown by the app').fill(totp(secret));
  await page.getByRole('button', { name: 'Confirm the app' }).click();
  await page.getByText('Your authenticator app is set up.').waitFor();
  await j.shot('app-done');

  // The alternate address, verified by its link.
  since = await newestId(base);
  await page.getByLabel('Alternate email address').fill('billing.home@example.com');
  await page.getByRole('button', { name: 'Save and send the link' }).click();
  await page.getByText('A link was sent to billing.home@example.com.').waitFor();
  await page.goto(linkOf(await lastTo(base, 'billing.home@example.com', { since }), base, '/account/alternate-email/verify'));
  await page.getByText(/billing.home@example.com is verified/).waitFor();
  await j.shot('alternate-verified');

  // Sign out everywhere, then sign in with the app, and with a backup code.
  await page.goto(`${base}/account/sessions`);
  await page.getByText('this device', { exact: false }).waitFor();
  await j.shot('sessions');
  await page.getByRole('button', { name: 'Sign out everywhere' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await login(j, base, DEMO_PASSWORD, async () => {
    expect(await page.getByText(/I can’t use my app/).isVisible(), '"I can\'t use my app" is offered');
    await j.shot('login-app');
    await page.getByLabel('Code').fill(totp(secret, 1));
    await page.getByRole('button', { name: 'Confirm' }).click();
  });
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await login(j, base, DEMO_PASSWORD, async () => {
    await page.getByRole('button', { name: 'Use a backup code' }).click();
    await page.getByLabel('Backup code').fill(codes[3]);
    await j.shot('login-backup-code');
    await page.getByRole('button', { name: 'Confirm' }).click();
  });

  // The phone (after the app, codes come from it) and the password.
  await page.getByRole('link', { name: 'My account' }).click();
  await page.getByLabel('New mobile phone').fill(NEW_PHONE);
  since = await newestId(base);
  await page.getByRole('button', { name: 'Change my phone' }).click();
  // Each app code works once: the backup codes from here on.
  await reauthenticateWithBackupCode(page, codes[4]);
  await page.getByText(/A code was sent by text message to/).waitFor();
  await page.getByLabel('Code', { exact: true }).fill(codeOf(await lastTo(base, NEW_PHONE, { since })));
  await page.getByRole('button', { name: 'Confirm', exact: true }).click();
  await page.getByText(/Your codes now go to/).waitFor();
  await j.shot('phone-changed');
  await page.getByLabel('New password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Change my password' }).click();
  // A credential change needs its own re-authentication.
  await reauthenticateWithBackupCode(page, codes[6]);
  await page.getByText(/Your password is changed/).waitFor();
  await j.shot('password-changed');
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();

  // Forgot password: the link, the second factor, a new password.
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.getByRole('heading', { name: 'Forgot your password' }).waitFor();
  await page.getByLabel('Email address', { exact: true }).fill(EMAIL);
  since = await newestId(base);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText(/an email is on its way/).waitFor();
  await j.shot('forgot-password');
  await page.goto(linkOf(await lastTo(base, EMAIL, { since }), base, '/password/reset'));
  await page.getByRole('button', { name: 'Use a backup code' }).click();
  await page.getByLabel('Backup code').fill(codes[5]);
  await page.getByLabel('New password').fill(DEMO_PASSWORD);
  await j.shot('reset-password');
  await page.getByRole('button', { name: 'Save my new password' }).click();
  await page.getByText('Your password is changed. Sign in with it.').waitFor();
  await page.goto(`${base}/identifier/forgot`);
  await page.getByLabel('Email address', { exact: true }).fill(EMAIL);
  since = await newestId(base);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText(/an email is on its way/).waitFor();
  const identifiers = await lastTo(base, EMAIL, { since });
  expect(identifiers.body.includes('DB100002'), 'the identifier is emailed');
  await j.shot('forgot-identifier');
}
