//! The words Signet sends: emails, text messages and voice-call scripts, in French and
//! English. One function per message, so a reader finds every text in one file.

use crate::locale::Locale;
use crate::ports::Email;

const SIGNATURE_FR: &str =
    "\n\n— L'équipe Signet\nCe message vous a été envoyé automatiquement ; merci de ne pas y répondre.";
const SIGNATURE_EN: &str = "\n\n— The Signet team\nThis message was sent automatically; please do not reply.";

fn email(to: &str, locale: Locale, subject: (&str, &str), body: String) -> Email {
    let signature = locale.pick(SIGNATURE_FR, SIGNATURE_EN);
    Email {
        to: to.to_owned(),
        subject: locale.pick(subject.0, subject.1).to_owned(),
        body: format!("{body}{signature}"),
    }
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

/// The link that starts a password reset.
pub fn password_reset_link(to: &str, link: &str, valid_minutes: i64, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!(
            "Bonjour,\n\nVous avez demandé la réinitialisation du mot de passe de votre compte Signet.\n\nOuvrez ce lien (valable {valid_minutes} minutes) ; un code vous sera ensuite demandé, puis votre nouveau mot de passe :\n{link}\n\nSi vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de passe reste inchangé."
        ),
        Locale::En => format!(
            "Hello,\n\nYou asked to reset the password of your Signet account.\n\nOpen this link (valid for {valid_minutes} minutes); you will then be asked for a code, then for your new password:\n{link}\n\nIf you did not ask for this, ignore this message: your password stays unchanged."
        ),
    };
    email(to, locale, ("Réinitialisation de votre mot de passe Signet", "Reset your Signet password"), body)
}

/// Sent to an address without an account that asked for a password reset or its identifiers.
pub fn no_account(to: &str, signup_url: &str, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!(
            "Bonjour,\n\nQuelqu'un a demandé un accès à un compte Signet avec cette adresse, mais aucun compte n'utilise cette adresse pour se connecter.\n\nVous pouvez créer un compte : {signup_url}\n\nSi vous n'êtes pas à l'origine de cette demande, ignorez ce message."
        ),
        Locale::En => format!(
            "Hello,\n\nSomeone asked for access to a Signet account with this address, but no account signs in with this address.\n\nYou can create an account: {signup_url}\n\nIf you did not ask for this, ignore this message."
        ),
    };
    email(to, locale, ("Aucun compte Signet pour cette adresse", "No Signet account for this address"), body)
}

/// The identifiers an address signs in with ("forgot identifier").
pub fn identifiers(to: &str, identifiers: &[String], spaces: &[String], login_url: &str, locale: Locale) -> Email {
    let list = identifiers.iter().map(|i| format!("  • {i}")).collect::<Vec<_>>().join("\n");
    let spaces = spaces.iter().map(|s| format!("  • {s}")).collect::<Vec<_>>().join("\n");
    let body = match locale {
        Locale::Fr => format!(
            "Bonjour,\n\nVoici les identifiants de connexion associés à cette adresse :\n{list}\n\nEspaces clients auxquels vous avez accès :\n{spaces}\n\nConnectez-vous : {login_url}\n\nSi vous n'êtes pas à l'origine de cette demande, ignorez ce message."
        ),
        Locale::En => format!(
            "Hello,\n\nHere are the sign-in identifiers of this address:\n{list}\n\nCustomer spaces you have access to:\n{spaces}\n\nSign in: {login_url}\n\nIf you did not ask for this, ignore this message."
        ),
    };
    email(to, locale, ("Vos identifiants Signet", "Your Signet identifiers"), body)
}

/// What changed on an account's credentials, for [`credential_changed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialChange {
    /// The password was changed by its owner, signed in.
    PasswordChanged,
    /// The password was reset through "forgot password".
    PasswordReset,
    /// An authenticator app was enrolled.
    TotpEnabled,
    /// The authenticator app was removed.
    TotpDisabled,
    /// The second-factor phone or its SMS/voice choice changed.
    PhoneChanged,
    /// An alternate email address was verified.
    AlternateEmailAdded,
    /// The alternate email address was removed.
    AlternateEmailRemoved,
}

/// Tells the account's owner that a credential changed, and what to do if it was not them.
pub fn credential_changed(to: &str, change: CredentialChange, when: &str, reset_url: &str, locale: Locale) -> Email {
    let (subject, what) = match change {
        CredentialChange::PasswordChanged => (
            ("Votre mot de passe Signet a été modifié", "Your Signet password was changed"),
            (
                "Le mot de passe de votre compte a été modifié. Vos autres sessions ont été fermées.",
                "Your account's password was changed. Your other sessions were signed out.",
            ),
        ),
        CredentialChange::PasswordReset => (
            ("Votre mot de passe Signet a été réinitialisé", "Your Signet password was reset"),
            (
                "Le mot de passe de votre compte a été réinitialisé. Toutes vos sessions ont été fermées.",
                "Your account's password was reset. All your sessions were signed out.",
            ),
        ),
        CredentialChange::TotpEnabled => (
            ("Application d'authentification ajoutée", "Authenticator app added"),
            (
                "Une application d'authentification a été ajoutée à votre compte comme second facteur.",
                "An authenticator app was added to your account as second factor.",
            ),
        ),
        CredentialChange::TotpDisabled => (
            ("Application d'authentification retirée", "Authenticator app removed"),
            (
                "L'application d'authentification a été retirée de votre compte.",
                "The authenticator app was removed from your account.",
            ),
        ),
        CredentialChange::PhoneChanged => (
            ("Votre second facteur a été modifié", "Your second factor was changed"),
            (
                "Le téléphone de votre second facteur (ou le mode de réception des codes) a été modifié.",
                "The phone of your second factor (or how codes reach it) was changed.",
            ),
        ),
        CredentialChange::AlternateEmailAdded => (
            ("Adresse courriel secondaire ajoutée", "Alternate email address added"),
            (
                "Une adresse courriel secondaire a été vérifiée et ajoutée à votre compte.",
                "An alternate email address was verified and added to your account.",
            ),
        ),
        CredentialChange::AlternateEmailRemoved => (
            ("Adresse courriel secondaire retirée", "Alternate email address removed"),
            (
                "L'adresse courriel secondaire a été retirée de votre compte.",
                "The alternate email address was removed from your account.",
            ),
        ),
    };
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\n{} ({when} UTC)\n\nSi vous n'êtes pas à l'origine de cette modification, réinitialisez votre mot de passe sans attendre : {reset_url}\net contactez notre équipe de soutien.", what.0),
        Locale::En => format!("Hello,\n\n{} ({when} UTC)\n\nIf you did not make this change, reset your password now: {reset_url}\nand contact our support team.", what.1),
    };
    email(to, locale, subject, body)
}

/// The link that confirms a new login email, sent to the new address.
pub fn email_change_link(to: &str, link: &str, valid_minutes: i64, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!(
            "Bonjour,\n\nVous avez demandé que cette adresse devienne l'adresse de connexion de votre compte Signet.\n\nOuvrez ce lien en étant connecté (valable {valid_minutes} minutes) ; un code vous sera ensuite demandé :\n{link}\n\nTant que ce n'est pas fait, votre ancienne adresse reste votre adresse de connexion. Si vous n'êtes pas à l'origine de cette demande, ignorez ce message."
        ),
        Locale::En => format!(
            "Hello,\n\nYou asked for this address to become the sign-in address of your Signet account.\n\nOpen this link while signed in (valid for {valid_minutes} minutes); you will then be asked for a code:\n{link}\n\nUntil then, your old address stays your sign-in address. If you did not ask for this, ignore this message."
        ),
    };
    email(to, locale, ("Confirmez votre nouvelle adresse courriel", "Confirm your new email address"), body)
}

/// Tells the current address that a change of login email was asked (it may be unreachable).
pub fn email_change_requested(to: &str, new_hint: &str, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!(
            "Bonjour,\n\nUne demande de changement de l'adresse de connexion de votre compte Signet vers {new_hint} a été faite. Elle ne prendra effet qu'après confirmation depuis la nouvelle adresse et un code envoyé à votre téléphone.\n\nSi vous n'êtes pas à l'origine de cette demande, changez votre mot de passe et contactez notre équipe de soutien."
        ),
        Locale::En => format!(
            "Hello,\n\nA change of your Signet account's sign-in address to {new_hint} was asked. It takes effect only once confirmed from the new address and with a code sent to your phone.\n\nIf you did not ask for this, change your password and contact our support team."
        ),
    };
    email(to, locale, ("Demande de changement d'adresse courriel", "Email address change requested"), body)
}

/// Sent to the owner of an address another account asked to move to.
pub fn email_change_address_taken(to: &str, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => "Bonjour,\n\nQuelqu'un a demandé d'utiliser cette adresse comme adresse de connexion d'un autre compte Signet. Elle est déjà celle de votre compte : rien n'a été changé.\n\nSi vous n'êtes pas à l'origine de cette demande, ignorez ce message.".to_owned(),
        Locale::En => "Hello,\n\nSomeone asked to use this address as the sign-in address of another Signet account. It is already your account's: nothing was changed.\n\nIf you did not ask for this, ignore this message.".to_owned(),
    };
    email(to, locale, ("Votre adresse courriel est déjà utilisée", "Your email address is already in use"), body)
}

/// Confirms a completed change of login email (sent to both addresses).
pub fn email_changed(to: &str, old: &str, new: &str, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\nL'adresse de connexion de votre compte Signet est maintenant {new} (auparavant {old}).\n\nSi vous n'êtes pas à l'origine de ce changement, contactez notre équipe de soutien sans attendre."),
        Locale::En => format!("Hello,\n\nYour Signet account now signs in with {new} (before: {old}).\n\nIf you did not make this change, contact our support team now."),
    };
    email(to, locale, ("Votre adresse courriel a été modifiée", "Your email address was changed"), body)
}

/// The link that verifies an alternate email address.
pub fn alternate_email_link(to: &str, link: &str, valid_minutes: i64, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\nCette adresse a été indiquée comme adresse courriel secondaire d'un compte Signet. Confirmez-la en ouvrant ce lien en étant connecté (valable {valid_minutes} minutes) :\n{link}\n\nSi vous n'êtes pas à l'origine de cette demande, ignorez ce message."),
        Locale::En => format!("Hello,\n\nThis address was given as the alternate email address of a Signet account. Confirm it by opening this link while signed in (valid for {valid_minutes} minutes):\n{link}\n\nIf you did not ask for this, ignore this message."),
    };
    email(to, locale, ("Confirmez votre adresse courriel secondaire", "Confirm your alternate email address"), body)
}

/// The reference number of a signature recovery, with the activation link.
pub fn recovery_reference(to: &str, reference: &str, link: &str, valid_days: i64, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\nVotre demande de récupération de signature est enregistrée.\n\nVotre numéro de référence : {reference}\n\nActiver ma signature : {link}\n\nConnectez-vous, puis indiquez ce numéro et le code qui sera envoyé à votre téléphone. Ce numéro est valable {valid_days} jours ; une nouvelle demande le remplace."),
        Locale::En => format!("Hello,\n\nYour signature recovery request is recorded.\n\nYour reference number: {reference}\n\nActivate my signature: {link}\n\nSign in, then enter this number and the code that will be sent to your phone. This number is valid for {valid_days} days; a new request replaces it."),
    };
    email(
        to,
        locale,
        ("Votre numéro de référence pour activer votre signature", "Your reference number to activate your signature"),
        body,
    )
}

/// Confirms that a signature works again.
pub fn signature_activated(to: &str, serial: &str, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\nVotre signature a été activée : elle est de nouveau fonctionnelle. Numéro de série du nouveau certificat : {serial}.\n\nSi vous n'êtes pas à l'origine de cette activation, contactez notre équipe de soutien sans attendre."),
        Locale::En => format!("Hello,\n\nYour signature was activated: it works again. Serial number of the new certificate: {serial}.\n\nIf you did not activate it, contact our support team now."),
    };
    email(to, locale, ("Votre signature est activée", "Your signature is activated"), body)
}

/// A renewal reminder, some days before a subscription's term ends.
pub fn renewal_reminder(to: &str, product: &str, days: i64, ends: &str, link: &str, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\nVotre abonnement « {product} » prend fin dans {days} jour(s), le {ends} (UTC).\n\nRenouvelez-le pour continuer à signer sans interruption : {link}"),
        Locale::En => format!("Hello,\n\nYour subscription \"{product}\" ends in {days} day(s), on {ends} (UTC).\n\nRenew it to keep signing without interruption: {link}"),
    };
    email(to, locale, ("Votre abonnement arrive à échéance", "Your subscription is ending soon"), body)
}

/// The receipt of a renewal paid by card.
pub fn renewal_receipt(to: &str, number: &str, total: &str, ends: &str, link: &str, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\nNous avons bien reçu votre paiement de {total}. Merci !\n\nFacture : {number}\nVotre abonnement est renouvelé jusqu'au {ends} (UTC).\n\nVotre reçu et votre facture (PDF) : {link}\n\nProchaine étape : récupérez votre signature depuis « Mes abonnements »."),
        Locale::En => format!("Hello,\n\nWe received your payment of {total}. Thank you!\n\nInvoice: {number}\nYour subscription is renewed until {ends} (UTC).\n\nYour receipt and invoice (PDF): {link}\n\nNext step: recover your signature from \"My subscriptions\"."),
    };
    email(to, locale, ("Reçu de transaction", "Transaction receipt"), body)
}

/// An invoice issued to an organisation, to its billing contact.
pub fn organisation_invoice(
    to: &str,
    organisation: &str,
    number: &str,
    total: &str,
    link: &str,
    locale: Locale,
) -> Email {
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\nLa facture {number} de {total} a été émise au nom de {organisation} pour le renouvellement d'un abonnement par l'un de ses membres.\n\nConsultez-la et téléchargez-la (PDF) : {link}"),
        Locale::En => format!("Hello,\n\nInvoice {number} for {total} was issued to {organisation} for the renewal of a subscription by one of its members.\n\nView and download it (PDF): {link}"),
    };
    email(to, locale, ("Nouvelle facture", "New invoice"), body)
}

/// The confirmation of a renewal billed to an organisation, to the person who renewed.
pub fn renewal_invoiced(to: &str, organisation: &str, number: &str, ends: &str, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\nVotre abonnement est renouvelé jusqu'au {ends} (UTC). La facture {number} a été transmise à {organisation}.\n\nProchaine étape : récupérez votre signature depuis « Mes abonnements »."),
        Locale::En => format!("Hello,\n\nYour subscription is renewed until {ends} (UTC). Invoice {number} was sent to {organisation}.\n\nNext step: recover your signature from \"My subscriptions\"."),
    };
    email(to, locale, ("Votre abonnement est renouvelé", "Your subscription is renewed"), body)
}

/// An address shown without giving it away whole (`n•••@example.org`).
pub fn email_hint(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => format!("{}•••@{domain}", local.chars().next().unwrap_or('•')),
        None => "•••".to_owned(),
    }
}

/// The text message carrying a code.
pub fn code_sms(digits: &str, valid_minutes: i64, locale: Locale) -> String {
    match locale {
        Locale::Fr => format!("Signet : votre code de confirmation est {digits}. Il expire dans {valid_minutes} minutes. Ne le communiquez à personne."),
        Locale::En => format!("Signet: your confirmation code is {digits}. It expires in {valid_minutes} minutes. Do not share it with anyone."),
    }
}

/// The script read by a voice call carrying a code: digits one by one, said twice.
pub fn code_voice(digits: &str, locale: Locale) -> String {
    let spaced: Vec<String> = digits.chars().map(|d| d.to_string()).collect();
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

// Organisations (seed 003).

/// The first of the two registration emails: the login identifier of the administrator.
pub fn organisation_identifier(
    to: &str,
    organisation: &str,
    identifier: &str,
    login_url: &str,
    locale: Locale,
) -> Email {
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\nL'espace client de {organisation} est créé et vous en êtes l'administrateur.\n\nVotre identifiant : {identifier}\n\nVotre mot de passe temporaire vous parvient dans un message séparé. Connectez-vous avec les deux : {login_url}"),
        Locale::En => format!("Hello,\n\nThe customer space of {organisation} is created and you are its administrator.\n\nYour identifier: {identifier}\n\nYour temporary password reaches you in a separate message. Sign in with both: {login_url}"),
    };
    email(to, locale, ("Votre identifiant Signet", "Your Signet identifier"), body)
}

/// The second registration email: the temporary password, and until when it works.
pub fn organisation_temporary_password(
    to: &str,
    password: &str,
    valid_until: &str,
    login_url: &str,
    locale: Locale,
) -> Email {
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\nVotre mot de passe temporaire : {password}\n\nIl fonctionne jusqu'au {valid_until} (UTC), une fois : à la première connexion, vous choisirez votre propre mot de passe et un second facteur. Votre identifiant vous parvient dans un message séparé.\n\nSe connecter : {login_url}"),
        Locale::En => format!("Hello,\n\nYour temporary password: {password}\n\nIt works until {valid_until} (UTC), once: at your first sign-in you will choose your own password and a second factor. Your identifier reaches you in a separate message.\n\nSign in: {login_url}"),
    };
    email(to, locale, ("Votre mot de passe temporaire Signet", "Your temporary Signet password"), body)
}

/// To an administrator who already had an account: accepting the new space with it.
pub fn organisation_created_for_member(to: &str, organisation: &str, link: &str, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\nL'espace client de {organisation} a été créé avec votre adresse comme administrateur. Si c'est bien vous, acceptez-le avec votre compte habituel (connectez-vous, puis ouvrez ce lien) :\n{link}\n\nSinon, ignorez ce message : vous n'en serez pas membre."),
        Locale::En => format!("Hello,\n\nThe customer space of {organisation} was created with your address as its administrator. If this is you, accept it with your usual account (sign in, then open this link):\n{link}\n\nOtherwise, ignore this message: you will not be a member of it."),
    };
    email(to, locale, ("Un nouvel espace client Signet", "A new Signet customer space"), body)
}

/// To an organisation's administrators: someone tried to register it again.
pub fn organisation_registration_attempt(to: &str, organisation: &str, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\nQuelqu'un a demandé la création d'un espace client pour {organisation}, qui en a déjà un dont vous êtes l'administrateur. Nous lui avons demandé de vous contacter ; aucune information sur votre espace ne lui a été communiquée.\n\nSi cette personne doit y accéder, invitez-la depuis « Utilisateurs »."),
        Locale::En => format!("Hello,\n\nSomeone asked to create a customer space for {organisation}, which already has one that you administer. We asked them to contact you; nothing about your space was disclosed to them.\n\nIf they should have access, invite them from \"Users\"."),
    };
    email(
        to,
        locale,
        ("Demande d'inscription de votre organisation", "A registration request for your organisation"),
        body,
    )
}

/// An invitation to join an organisation's space.
pub fn organisation_invitation(
    to: &str,
    organisation: &str,
    roles: &str,
    link: &str,
    valid_until: &str,
    locale: Locale,
) -> Email {
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\nVous êtes invité à rejoindre l'espace client de {organisation} sur Signet, avec le(s) rôle(s) : {roles}.\n\nAcceptez l'invitation (lien valable jusqu'au {valid_until} UTC, une fois) :\n{link}\n\nSi vous ne connaissez pas cette organisation, ignorez ce message."),
        Locale::En => format!("Hello,\n\nYou are invited to join the customer space of {organisation} on Signet, with the role(s): {roles}.\n\nAccept the invitation (link valid until {valid_until} UTC, once):\n{link}\n\nIf you do not know this organisation, ignore this message."),
    };
    email(to, locale, ("Invitation à un espace client Signet", "Invitation to a Signet customer space"), body)
}

/// To a new member, once their account exists: their identifier.
pub fn member_identifier(to: &str, organisation: &str, identifier: &str, login_url: &str, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\nVous avez rejoint l'espace client de {organisation}.\n\nVotre identifiant : {identifier} (vous pouvez aussi vous connecter avec votre adresse email).\n\nÀ la première connexion, ajoutez votre second facteur : {login_url}"),
        Locale::En => format!("Hello,\n\nYou joined the customer space of {organisation}.\n\nYour identifier: {identifier} (you may also sign in with your email address).\n\nAt your first sign-in, add your second factor: {login_url}"),
    };
    email(to, locale, ("Bienvenue dans votre espace client Signet", "Welcome to your Signet customer space"), body)
}

/// To an organisation's administrators: a member cannot use their second factor.
pub fn no_access_request(
    to: &str,
    member: &str,
    member_email: &str,
    organisation: &str,
    link: &str,
    locale: Locale,
) -> Email {
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\n{member} ({member_email}), membre de l'espace client de {organisation}, n'a plus accès à son second facteur (« Pas d'accès à l'application ») et vous demande de le réinitialiser.\n\nSi vous reconnaissez cette demande, réinitialisez son second facteur depuis « Utilisateurs » (votre identité vous sera redemandée) : {link}\nÀ sa prochaine connexion, il en enregistrera un nouveau.\n\nSinon, ignorez ce message."),
        Locale::En => format!("Hello,\n\n{member} ({member_email}), a member of the customer space of {organisation}, no longer has access to their second factor (\"No access to the app\") and asks you to reset it.\n\nIf you recognise this request, reset their second factor from \"Users\" (you will be asked to confirm your identity): {link}\nAt their next sign-in, they will enrol a new one.\n\nOtherwise, ignore this message."),
    };
    email(to, locale, ("Demande de réinitialisation du second facteur", "A second-factor reset request"), body)
}

/// To a person whose second factor was reset (by an administrator or the provider), with the
/// link without which no new factor can be enrolled.
pub fn second_factor_reset(to: &str, by: &str, when: &str, link: &str, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\nVotre second facteur a été réinitialisé le {when} (UTC) par {by}. Toutes vos sessions ont été fermées.\n\nPour enregistrer un nouveau second facteur (téléphone ou application), ouvrez ce lien puis connectez-vous (valable 7 jours, une fois) :\n{link}\n\nSi vous n'avez rien demandé, contactez immédiatement votre administrateur ou notre support, et changez votre mot de passe."),
        Locale::En => format!("Hello,\n\nYour second factor was reset on {when} (UTC) by {by}. All your sessions were ended.\n\nTo enrol a new second factor (phone or app), open this link, then sign in (valid 7 days, once):\n{link}\n\nIf you did not ask for this, contact your administrator or our support at once, and change your password."),
    };
    email(to, locale, ("Votre second facteur a été réinitialisé", "Your second factor was reset"), body)
}

/// To a person whose sessions the provider ended.
pub fn sessions_ended(to: &str, when: &str, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\nLe support Signet a fermé toutes vos sessions le {when} (UTC). Reconnectez-vous avec votre mot de passe et votre second facteur.\n\nSi vous n'avez rien demandé, changez votre mot de passe."),
        Locale::En => format!("Hello,\n\nSignet's support ended all your sessions on {when} (UTC). Sign in again with your password and second factor.\n\nIf you did not ask for this, change your password."),
    };
    email(to, locale, ("Vos sessions Signet ont été fermées", "Your Signet sessions were ended"), body)
}

/// To an organisation's billing contact: the provider enabled or disabled invoicing.
pub fn invoicing_changed(to: &str, organisation: &str, enabled: bool, locale: Locale) -> Email {
    let body = match (locale, enabled) {
        (Locale::Fr, true) => format!("Bonjour,\n\nLa facturation est activée pour {organisation} : ses membres peuvent désormais choisir « Facturer mon organisation » lors d'un renouvellement. Les factures vous seront adressées."),
        (Locale::Fr, false) => format!("Bonjour,\n\nLa facturation est désactivée pour {organisation} : ses membres paient désormais leurs renouvellements par carte."),
        (Locale::En, true) => format!("Hello,\n\nInvoicing is enabled for {organisation}: its members may now choose \"Bill my organisation\" when they renew. Invoices will be sent to you."),
        (Locale::En, false) => format!("Hello,\n\nInvoicing is disabled for {organisation}: its members now pay their renewals by card."),
    };
    email(to, locale, ("Facturation de votre organisation", "Your organisation's invoicing"), body)
}

/// Three wrong answers to the security questions locked the PIN reset.
pub fn pin_reset_locked(to: &str, until: &str, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\nTrois réponses incorrectes à vos questions de sécurité ont été données pour réinitialiser le code PIN d'une de vos signatures. La réinitialisation est bloquée jusqu'au {until} (UTC).\n\nSi ce n'était pas vous, changez votre mot de passe : quelqu'un a accès à votre session."),
        Locale::En => format!("Hello,\n\nThree wrong answers to your security questions were given to reset the PIN of one of your signatures. The reset is locked until {until} (UTC).\n\nIf this was not you, change your password: someone has access to your session."),
    };
    email(to, locale, ("Réinitialisation du code PIN bloquée", "PIN reset locked"), body)
}

/// A signature's PIN was reset.
pub fn pin_reset(to: &str, when: &str, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\nLe code PIN d'une de vos signatures a été réinitialisé le {when} (UTC).\n\nSi ce n'était pas vous, changez votre mot de passe et contactez notre support."),
        Locale::En => format!("Hello,\n\nThe PIN of one of your signatures was reset on {when} (UTC).\n\nIf this was not you, change your password and contact our support."),
    };
    email(to, locale, ("Code PIN réinitialisé", "PIN reset"), body)
}

/// The security questions were defined or changed.
pub fn security_questions_changed(to: &str, when: &str, locale: Locale) -> Email {
    let body = match locale {
        Locale::Fr => format!("Bonjour,\n\nVos questions de sécurité (pour réinitialiser le code PIN de vos signatures) ont été définies le {when} (UTC). La réinitialisation du code PIN sera possible dans trois jours.\n\nSi ce n'était pas vous, changez votre mot de passe et contactez notre support."),
        Locale::En => format!("Hello,\n\nYour security questions (to reset the PIN of your signatures) were defined on {when} (UTC). Resetting a PIN will be possible in three days.\n\nIf this was not you, change your password and contact our support."),
    };
    email(to, locale, ("Questions de sécurité définies", "Security questions defined"), body)
}
