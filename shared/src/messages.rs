//! The words Signet sends: emails, text messages and voice-call scripts, in French and
//! English. One function per message, so a reader finds every text in one file.

use crate::locale::Locale;
use crate::otp::Code;
use crate::ports::Email;

const SIGNATURE_FR: &str = "\n\n— L'équipe Signet\nCe message vous a été envoyé automatiquement ; merci de ne pas y répondre.";
const SIGNATURE_EN: &str = "\n\n— The Signet team\nThis message was sent automatically; please do not reply.";

fn email(to: &str, locale: Locale, subject: (&str, &str), body: String) -> Email {
    let signature = locale.pick(SIGNATURE_FR, SIGNATURE_EN);
    Email { to: to.to_owned(), subject: locale.pick(subject.0, subject.1).to_owned(), body: format!("{body}{signature}") }
}

/// The link that continues a sign-up.
pub fn signup_link(to: &str, link: &str, valid_minutes: i64, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!(
            "Bonjour,\n\nVous avez demandé la création d'un compte Signet avec cette adresse.\n\nPoursuivez la création de votre compte en ouvrant ce lien (valable {valid_minutes} minutes, une seule fois) :\n{link}\n\nSi vous n'êtes pas à l'origine de cette demande, ignorez ce message : aucun compte ne sera créé."
        ),
        Locale::En => format!(
            "Hello,\n\nYou asked to create a Signet account with this address.\n\nContinue creating your account by opening this link (valid for {valid_minutes} minutes, once):\n{link}\n\nIf you did not ask for this, ignore this message: no account will be created."
        ),
    };
    email(to, locale, ("Poursuivez la création de votre compte Signet", "Continue creating your Signet account"), body)
}

/// Sent instead of a sign-up link when the address already has an account.
pub fn signup_already_registered(to: &str, login_url: &str, reset_url: &str, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!(
            "Bonjour,\n\nQuelqu'un a demandé la création d'un compte Signet avec cette adresse, mais vous avez déjà un compte.\n\nConnectez-vous : {login_url}\nMot de passe oublié : {reset_url}\n\nSi vous n'êtes pas à l'origine de cette demande, ignorez ce message."
        ),
        Locale::En => format!(
            "Hello,\n\nSomeone asked to create a Signet account with this address, but you already have an account.\n\nSign in: {login_url}\nForgot your password: {reset_url}\n\nIf you did not ask for this, ignore this message."
        ),
    };
    email(to, locale, ("Vous avez déjà un compte Signet", "You already have a Signet account"), body)
}

/// Confirms that a sign-up is complete.
pub fn signup_confirmed(to: &str, first_name: &str, login_url: &str, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!(
            "Bonjour {first_name},\n\nLa création de votre compte Signet est complétée.\n\nConnectez-vous avec votre adresse courriel et votre mot de passe : {login_url}\n\nSi vous n'êtes pas à l'origine de cette inscription, contactez notre équipe de soutien."
        ),
        Locale::En => format!(
            "Hello {first_name},\n\nYour Signet account is now created.\n\nSign in with your email address and password: {login_url}\n\nIf you did not sign up, contact our support team."
        ),
    };
    email(to, locale, ("Votre compte Signet est créé", "Your Signet account is created"), body)
}

/// The text message carrying a code.
pub fn code_sms(code: &Code, valid_minutes: i64, locale: Locale) -> String {
    match locale {
        Locale::Fr => format!("Signet : votre code de confirmation est {}. Il expire dans {valid_minutes} minutes. Ne le communiquez à personne.", code.digits()),
        Locale::En => format!("Signet: your confirmation code is {}. It expires in {valid_minutes} minutes. Do not share it with anyone.", code.digits()),
    }
}

/// The script read by a voice call carrying a code: digits one by one, said twice.
pub fn code_voice(code: &Code, locale: Locale) -> String {
    let spaced: Vec<String> = code.digits().chars().map(|d| d.to_string()).collect();
    let digits = spaced.join(", ");
    match locale {
        Locale::Fr => format!("Bonjour, ici Signet. Votre code de confirmation est : {digits}. Je répète : {digits}."),
        Locale::En => format!("Hello, this is Signet. Your confirmation code is: {digits}. I repeat: {digits}."),
    }
}

/// The language a voice call is read in.
pub fn voice_language(locale: Locale) -> &'static str {
    locale.pick("fr-CA", "en-US")
}
