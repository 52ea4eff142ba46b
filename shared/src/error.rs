//! The one error type of Signet and its RFC 9457 `application/problem+json` rendering.
//!
//! Every failure a client can see has a stable [`ErrorCode`]: its HTTP status, its
//! French and English messages and its `type` URI never change meaning. Internal causes
//! are logged with context and never returned to the client.

use crate::locale::Locale;

/// Result alias used across Signet.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The HTTP statuses the codes map to, by their names in RFC 9110 (the error knows the
/// number; [`crate::web::problem`] renders it).
mod status {
    pub const BAD_REQUEST: u16 = 400;
    pub const UNAUTHORIZED: u16 = 401;
    pub const FORBIDDEN: u16 = 403;
    pub const NOT_FOUND: u16 = 404;
    pub const METHOD_NOT_ALLOWED: u16 = 405;
    pub const REQUEST_TIMEOUT: u16 = 408;
    pub const CONFLICT: u16 = 409;
    pub const GONE: u16 = 410;
    pub const PAYLOAD_TOO_LARGE: u16 = 413;
    pub const UNSUPPORTED_MEDIA_TYPE: u16 = 415;
    pub const MISDIRECTED_REQUEST: u16 = 421;
    pub const UNPROCESSABLE_ENTITY: u16 = 422;
    pub const TOO_MANY_REQUESTS: u16 = 429;
    pub const INTERNAL_SERVER_ERROR: u16 = 500;
    pub const SERVICE_UNAVAILABLE: u16 = 503;
}

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = ($code:literal, $status:ident, $fr:literal, $en:literal), )*) => {
        /// Stable error codes; the string form is part of the public API.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, for documentation and tests.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The stable string form (`snake_case`).
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// The HTTP status this code maps to.
            pub fn status(self) -> u16 {
                match self { $(ErrorCode::$variant => status::$status,)* }
            }

            /// The user-facing message in the given language.
            pub fn message(self, locale: Locale) -> &'static str {
                match self { $(ErrorCode::$variant => locale.pick($fr, $en),)* }
            }
        }
    };
}

error_codes! {
    /// 400: the body is not valid JSON.
    MalformedJson = ("malformed_json", BAD_REQUEST,
        "Le corps de la requête n'est pas un JSON valide.",
        "The request body is not valid JSON."),
    /// 422: a field is missing, unknown or of the wrong type.
    InvalidRequest = ("invalid_request", UNPROCESSABLE_ENTITY,
        "La requête contient un champ manquant, inconnu ou invalide.",
        "The request has a missing, unknown or invalid field."),
    /// 415: the body is not `application/json`.
    UnsupportedMediaType = ("unsupported_media_type", UNSUPPORTED_MEDIA_TYPE,
        "Le corps de la requête doit être au format application/json.",
        "The request body must be application/json."),
    /// 413: the body is too large.
    PayloadTooLarge = ("payload_too_large", PAYLOAD_TOO_LARGE,
        "Le corps de la requête est trop volumineux.",
        "The request body is too large."),
    /// 404: no such route or resource.
    NotFound = ("not_found", NOT_FOUND,
        "La ressource demandée n'existe pas.",
        "The requested resource does not exist."),
    /// 405: the route exists with another method.
    MethodNotAllowed = ("method_not_allowed", METHOD_NOT_ALLOWED,
        "Cette méthode n'est pas permise pour cette ressource.",
        "This method is not allowed for this resource."),
    /// 422: the email address is not valid.
    InvalidEmail = ("invalid_email", UNPROCESSABLE_ENTITY,
        "L'adresse courriel n'est pas valide. Avant le « @ », seuls les lettres sans accent, les chiffres et les signes comme . _ - + sont acceptés.",
        "The email address is not valid. Before the “@”, only unaccented letters, digits and signs such as . _ - + are accepted."),
    /// 422: the phone number is not a valid international number.
    InvalidPhone = ("invalid_phone", UNPROCESSABLE_ENTITY,
        "Le numéro de téléphone n'est pas valide. Indiquez-le au format international, par exemple +1 514 555 0100.",
        "The phone number is not valid. Enter it in international format, for example +1 514 555 0100."),
    /// 422: the number cannot receive codes: not a mobile or fixed line (premium-rate,
    /// shared-cost, toll-free, internet…).
    PhoneTypeNotAllowed = ("phone_type_not_allowed", UNPROCESSABLE_ENTITY,
        "Ce numéro ne peut pas recevoir de codes. Indiquez un mobile ou une ligne fixe (pas de numéro surtaxé, à coût partagé, gratuit ou Internet).",
        "This number cannot receive codes. Enter a mobile or a fixed line (no premium-rate, shared-cost, toll-free or internet number)."),
    /// 422: numbers of this country are not accepted.
    PhoneCountryNotAllowed = ("phone_country_not_allowed", UNPROCESSABLE_ENTITY,
        "Les numéros de ce pays ne sont pas acceptés. Indiquez un numéro d'un des pays desservis.",
        "Numbers of this country are not accepted. Enter a number of one of the countries served."),
    /// 422: the password has fewer than 8 characters.
    PasswordTooShort = ("password_too_short", UNPROCESSABLE_ENTITY,
        "Le mot de passe doit contenir au moins 8 caractères.",
        "The password must have at least 8 characters."),
    /// 422: the password has more than 128 characters.
    PasswordTooLong = ("password_too_long", UNPROCESSABLE_ENTITY,
        "Le mot de passe doit contenir au plus 128 caractères.",
        "The password must have at most 128 characters."),
    /// 422: the password is on the list of common or breached passwords.
    PasswordCommon = ("password_common", UNPROCESSABLE_ENTITY,
        "Ce mot de passe est trop courant ou a déjà fuité. Choisissez-en un autre.",
        "This password is too common or has been breached. Choose another one."),
    /// 422: the password contains the email address.
    PasswordContainsEmail = ("password_contains_email", UNPROCESSABLE_ENTITY,
        "Le mot de passe ne doit pas contenir votre adresse courriel.",
        "The password must not contain your email address."),
    /// 422: a name is empty or too long.
    InvalidName = ("invalid_name", UNPROCESSABLE_ENTITY,
        "Le prénom et le nom doivent contenir entre 1 et 100 caractères.",
        "First and last name must have between 1 and 100 characters."),
    /// 422: a name holds characters that cannot be shown safely (control, invisible,
    /// bidirectional, tag or unusual space characters, or a pile of combining marks).
    NameCharactersNotAllowed = ("name_characters_not_allowed", UNPROCESSABLE_ENTITY,
        "Le nom contient des caractères invisibles, de contrôle ou de sens d'écriture, qui ne sont pas acceptés. Retapez-le.",
        "The name contains invisible, control or text-direction characters, which are not accepted. Type it again."),
    /// 401: the email link is unknown or malformed (its secret does not authenticate).
    LinkInvalid = ("link_invalid", UNAUTHORIZED,
        "Ce lien n'est pas valide. Recommencez la démarche pour en recevoir un nouveau.",
        "This link is not valid. Start again to receive a new one."),
    /// 410: the email link has expired.
    LinkExpired = ("link_expired", GONE,
        "Ce lien a expiré. Recommencez la démarche pour en recevoir un nouveau.",
        "This link has expired. Start again to receive a new one."),
    /// 410: the email link was already used.
    LinkUsed = ("link_used", GONE,
        "Ce lien a déjà été utilisé. Recommencez la démarche pour en recevoir un nouveau.",
        "This link has already been used. Start again to receive a new one."),
    /// 401: the sign-up token is unknown or does not match.
    SignupInvalid = ("signup_invalid", UNAUTHORIZED,
        "Cette inscription est introuvable. Recommencez depuis le lien reçu par courriel.",
        "This sign-up cannot be found. Start again from the emailed link."),
    /// 410: the sign-up expired or was ended.
    SignupExpired = ("signup_expired", GONE,
        "Cette inscription a expiré ou a été interrompue. Recommencez votre inscription.",
        "This sign-up has expired or was ended. Start your sign-up again."),
    /// 409: the step does not fit the current state of the sign-up.
    SignupWrongStep = ("signup_wrong_step", CONFLICT,
        "Cette étape n'est pas disponible à ce moment de l'inscription.",
        "This step is not available at this point of the sign-up."),
    /// 422: the confirmation code is wrong.
    CodeInvalid = ("code_invalid", UNPROCESSABLE_ENTITY,
        "Le code de confirmation est incorrect.",
        "The confirmation code is incorrect."),
    /// 410: the confirmation code has expired.
    CodeExpired = ("code_expired", GONE,
        "Le code de confirmation a expiré. Demandez-en un nouveau.",
        "The confirmation code has expired. Ask for a new one."),
    /// 410: too many wrong codes; the operation is ended.
    CodeAttemptsExceeded = ("code_attempts_exceeded", GONE,
        "Trop de codes incorrects. Pour votre sécurité, la démarche a été interrompue.",
        "Too many incorrect codes. For your security, the process was ended."),
    /// 429: a new code was asked too soon or too often.
    CodeResendTooSoon = ("code_resend_too_soon", TOO_MANY_REQUESTS,
        "Un code vient d'être envoyé. Patientez avant d'en demander un nouveau.",
        "A code was just sent. Wait before asking for a new one."),
    /// 429: too many requests from this source or for this target.
    TooManyRequests = ("too_many_requests", TOO_MANY_REQUESTS,
        "Trop de demandes. Réessayez plus tard.",
        "Too many requests. Try again later."),
    /// 401: the email, the password or the account's state do not allow a login (all alike).
    LoginFailed = ("login_failed", UNAUTHORIZED,
        "Adresse courriel ou mot de passe incorrect.",
        "Incorrect email address or password."),
    /// 401: the login token is unknown, expired or already used.
    LoginInvalid = ("login_invalid", UNAUTHORIZED,
        "Cette connexion a expiré. Recommencez avec votre adresse courriel et votre mot de passe.",
        "This sign-in has expired. Start again with your email address and password."),
    /// 401: the access token is missing, malformed, expired, revoked or not for this API.
    TokenInvalid = ("token_invalid", UNAUTHORIZED,
        "Votre session n'est pas valide ou a expiré. Connectez-vous de nouveau.",
        "Your session is not valid or has expired. Sign in again."),
    /// 422: the value asked for is already the account's.
    NoChange = ("no_change", UNPROCESSABLE_ENTITY,
        "Cette valeur est déjà celle de votre compte : il n'y a rien à modifier.",
        "This value is already your account's: there is nothing to change."),
    /// 403: the step changes a credential and needs a recent re-authentication.
    ReauthenticationRequired = ("reauthentication_required", FORBIDDEN,
        "Pour votre sécurité, confirmez votre identité (mot de passe et second facteur) avant cette modification.",
        "For your security, confirm your identity (password and second factor) before this change."),
    /// 404: no such reference number (or not this person's).
    ReferenceInvalid = ("reference_invalid", NOT_FOUND,
        "Ce numéro de référence est introuvable. Vérifiez-le dans le courriel reçu.",
        "This reference number cannot be found. Check it in the email you received."),
    /// 410: the reference number expired or was replaced by a newer request.
    ReferenceExpired = ("reference_expired", GONE,
        "Ce numéro de référence n'est plus valable. Faites une nouvelle demande de récupération.",
        "This reference number is no longer valid. Ask for a new recovery."),
    /// 410: the reference number was already used: the signature it recovered is active.
    ReferenceUsed = ("reference_used", GONE,
        "Ce numéro de référence a déjà servi : votre signature est activée. Pour une nouvelle activation, faites une nouvelle demande de récupération.",
        "This reference number was already used: your signature is active. For a new activation, ask for a new recovery."),
    /// 403: the step needs a second factor and the account has none yet.
    SecondFactorMissing = ("second_factor_missing", FORBIDDEN,
        "Ajoutez d'abord un second facteur (téléphone ou application d'authentification) à votre compte.",
        "First add a second factor (phone or authenticator app) to your account."),
    /// 401: the current password given to confirm an identity is wrong.
    PasswordIncorrect = ("password_incorrect", UNAUTHORIZED,
        "Le mot de passe est incorrect.",
        "The password is incorrect."),
    /// 401: the identity token of the external provider (Google) is not acceptable.
    ExternalTokenInvalid = ("external_token_invalid", UNAUTHORIZED,
        "La connexion avec ce fournisseur a échoué. Réessayez ou connectez-vous avec votre adresse courriel.",
        "Signing in with this provider failed. Try again or sign in with your email address."),
    /// 403: a browser request that changes state came from another origin.
    OriginRefused = ("origin_refused", FORBIDDEN,
        "Cette demande ne provient pas du portail et a été refusée.",
        "This request does not come from the portal and was refused."),
    /// 422: the terms of sale were not accepted, or an older version of them was.
    TermsNotAccepted = ("terms_not_accepted", UNPROCESSABLE_ENTITY,
        "Vous devez accepter les modalités d'achat en vigueur pour soumettre votre commande.",
        "You must accept the current terms of sale to submit your order."),
    /// 403: this payment mode is not open to this person (not a member of the organisation,
    /// or the organisation is not enabled for invoicing).
    PaymentModeUnavailable = ("payment_mode_unavailable", FORBIDDEN,
        "Ce mode de paiement n'est pas offert pour votre compte.",
        "This payment mode is not available to your account."),
    /// 422: a billing address (country, and province in Canada) is needed for the taxes.
    BillingAddressRequired = ("billing_address_required", UNPROCESSABLE_ENTITY,
        "Indiquez votre adresse de facturation (pays et, au Canada, province) pour calculer les taxes.",
        "Enter your billing address (country and, in Canada, province) so that taxes can be computed."),
    /// 409: the renewal was abandoned or its payment session expired; start a new one.
    RenewalClosed = ("renewal_closed", CONFLICT,
        "Ce renouvellement a été abandonné ou a expiré. Recommencez votre renouvellement.",
        "This renewal was abandoned or has expired. Start your renewal again."),
    /// 409: another renewal of this subscription is awaiting its payment.
    RenewalInProgress = ("renewal_in_progress", CONFLICT,
        "Un autre renouvellement de cet abonnement attend son paiement. Terminez-le ou attendez qu'il expire.",
        "Another renewal of this subscription is awaiting payment. Finish it or wait until it expires."),
    /// 401: a payment webhook whose signature does not verify (or is too old).
    WebhookSignatureInvalid = ("webhook_signature_invalid", UNAUTHORIZED,
        "La signature de la notification de paiement n'est pas valide.",
        "The payment notification's signature is not valid."),
    /// 422: a payment notification that does not match the order (amount or currency).
    PaymentMismatch = ("payment_mismatch", UNPROCESSABLE_ENTITY,
        "Le paiement reçu ne correspond pas à la commande.",
        "The payment received does not match the order."),
    /// 409: an account already exists for this email address.
    AccountExists = ("account_exists", CONFLICT,
        "Un compte existe déjà pour cette adresse courriel. Connectez-vous ou réinitialisez votre mot de passe.",
        "An account already exists for this email address. Sign in or reset your password."),
    /// 503: a message (email, SMS, call) could not be sent; the step can be retried.
    DeliveryFailed = ("delivery_failed", SERVICE_UNAVAILABLE,
        "Le message n'a pas pu être envoyé. Réessayez dans quelques instants.",
        "The message could not be sent. Try again in a moment."),
    /// 503: a dependency (database, key service) is unavailable; the step can be retried.
    ServiceUnavailable = ("service_unavailable", SERVICE_UNAVAILABLE,
        "Le service est momentanément indisponible. Réessayez dans quelques instants.",
        "The service is temporarily unavailable. Try again in a moment."),
    /// 422: a SIRET is 14 digits, typed without separators.
    InvalidSiret = ("invalid_siret", UNPROCESSABLE_ENTITY,
        "Le numéro SIRET compte 14 chiffres (SIREN puis NIC), saisis sans point, tiret ni autre caractère.",
        "A SIRET number has 14 digits (SIREN then NIC), typed without dots, dashes or other characters."),
    /// 422: the SIRET's check key does not hold (a typing error).
    SiretChecksum = ("siret_checksum", UNPROCESSABLE_ENTITY,
        "Ce numéro SIRET n'est pas valide : vérifiez-le, un chiffre a sans doute été mal saisi.",
        "This SIRET number is not valid: check it, a digit was probably mistyped."),
    /// 422: the VAT number does not have its member state's format.
    InvalidVatNumber = ("invalid_vat_number", UNPROCESSABLE_ENTITY,
        "Ce numéro de TVA intracommunautaire n'a pas le format de son pays (préfixe du pays puis le numéro).",
        "This VAT number does not have its country's format (the country prefix, then the number)."),
    /// 422: a registration number is 2 to 32 letters and digits.
    InvalidRegistrationNumber = ("invalid_registration_number", UNPROCESSABLE_ENTITY,
        "Le numéro d'immatriculation compte de 2 à 32 lettres et chiffres.",
        "The registration number has 2 to 32 letters and digits."),
    /// 422: the country does not go with where the entity is registered.
    InvalidCountry = ("invalid_country", UNPROCESSABLE_ENTITY,
        "Ce pays ne correspond pas au lieu d'enregistrement choisi (France, Union européenne ou autre).",
        "This country does not match the place of registration chosen (France, European Union or other)."),
    /// 422: the two email addresses typed differ.
    EmailMismatch = ("email_mismatch", UNPROCESSABLE_ENTITY,
        "Les deux adresses email saisies sont différentes.",
        "The two email addresses typed are different."),
    /// 422: the company registry says this establishment is closed.
    EstablishmentClosed = ("establishment_closed", UNPROCESSABLE_ENTITY,
        "Cet établissement est fermé selon le répertoire Sirene : indiquez le SIRET d'un établissement en activité.",
        "This establishment is closed according to the Sirene registry: give the SIRET of an active establishment."),
    /// 422: the company registry does not know this SIRET.
    SiretUnknown = ("siret_unknown", UNPROCESSABLE_ENTITY,
        "Ce numéro SIRET est inconnu du répertoire Sirene.",
        "This SIRET number is unknown to the Sirene registry."),
    /// 409: the entity already has a customer space; its administrator was told.
    OrganisationExists = ("organisation_exists", CONFLICT,
        "Cette entité a déjà un espace client. Contactez son administrateur : nous venons de le prévenir de votre demande.",
        "This entity already has a customer space. Contact its administrator: we have just told them of your request."),
    /// 410: the temporary password has expired.
    TemporaryPasswordExpired = ("temporary_password_expired", GONE,
        "Ce mot de passe temporaire a expiré. Demandez-en un nouveau avec « Mot de passe oublié ».",
        "This temporary password has expired. Ask for a new one with \"Forgot password\"."),
    /// 403: the account must first set its password and second factor.
    SetupRequired = ("setup_required", FORBIDDEN,
        "Terminez d'abord la configuration de votre compte : nouveau mot de passe et second facteur.",
        "First finish setting up your account: a new password and a second factor."),
    /// 403: the role held in this space does not allow this.
    RoleRequired = ("role_required", FORBIDDEN,
        "Votre rôle dans cet espace client ne permet pas cette action.",
        "Your role in this customer space does not allow this action."),
    /// 409: the change would leave the organisation without an administrator, a legal
    /// representative or a billing contact.
    RoleStillNeeded = ("role_still_needed", CONFLICT,
        "Un espace client garde toujours au moins un administrateur, un responsable légal et un contact facturation : désignez d'abord quelqu'un d'autre.",
        "A customer space always keeps an administrator, a legal representative and a billing contact: appoint someone else first."),
    /// 409: this person is already a member, or already invited.
    AlreadyMember = ("already_member", CONFLICT,
        "Cette personne est déjà membre de l'espace client ou y est déjà invitée.",
        "This person is already a member of the customer space or already invited to it."),
    /// 401: the invitation link is not valid.
    InvitationInvalid = ("invitation_invalid", UNAUTHORIZED,
        "Ce lien d'invitation n'est pas valide.",
        "This invitation link is not valid."),
    /// 410: the invitation expired, was cancelled or was already accepted.
    InvitationUnavailable = ("invitation_unavailable", GONE,
        "Cette invitation a expiré, a été annulée ou a déjà été acceptée. Demandez-en une nouvelle à l'administrateur.",
        "This invitation has expired, was cancelled or was already accepted. Ask the administrator for a new one."),
    /// 403: the invitation was sent to another address than the signed-in account's.
    InvitationForAnotherPerson = ("invitation_for_another_person", FORBIDDEN,
        "Cette invitation a été envoyée à une autre adresse que celle de votre compte.",
        "This invitation was sent to another address than your account's."),
    /// 409: the invited address has an account: sign in to accept.
    SignInToAccept = ("sign_in_to_accept", CONFLICT,
        "Cette adresse a déjà un compte : connectez-vous, puis acceptez l'invitation.",
        "This address already has an account: sign in, then accept the invitation."),
    /// 422: a PIN is 4 to 8 digits, neither all the same nor a sequence.
    PinInvalid = ("pin_invalid", UNPROCESSABLE_ENTITY,
        "Le code PIN compte de 4 à 8 chiffres, ni tous identiques ni qui se suivent (1234, 9876).",
        "A PIN has 4 to 8 digits, neither all the same nor in a row (1234, 9876)."),
    /// 422: security questions are at least three different ones of the list, each answered.
    SecurityQuestionsInvalid = ("security_questions_invalid", UNPROCESSABLE_ENTITY,
        "Choisissez au moins trois questions différentes de la liste et répondez à chacune (2 à 100 caractères).",
        "Choose at least three different questions from the list and answer each one (2 to 100 characters)."),
    /// 409: no security questions are defined yet.
    SecurityQuestionsMissing = ("security_questions_missing", CONFLICT,
        "Définissez d'abord vos questions de sécurité.",
        "First define your security questions."),
    /// 422: an answer to the security questions is wrong.
    SecurityAnswersWrong = ("security_answers_wrong", UNPROCESSABLE_ENTITY,
        "Une ou plusieurs réponses sont incorrectes.",
        "One or more answers are wrong."),
    /// 429: three wrong answers locked the PIN reset for a day.
    PinResetLocked = ("pin_reset_locked", TOO_MANY_REQUESTS,
        "Trop de réponses incorrectes : la réinitialisation du code PIN est bloquée pendant 24 heures.",
        "Too many wrong answers: the PIN reset is locked for 24 hours."),
    /// 409: the security questions were defined less than three days ago.
    SecurityQuestionsRecent = ("security_questions_recent", CONFLICT,
        "Vos questions de sécurité ont été définies il y a moins de trois jours : la réinitialisation du code PIN sera possible ensuite.",
        "Your security questions were defined less than three days ago: the PIN reset will be possible then."),
    /// 409: the organisation has as many members as a space may have.
    OrganisationFull = ("organisation_full", CONFLICT,
        "Cet espace client a atteint le nombre maximal de membres : retirez-en avant d'en inviter d'autres.",
        "This customer space has reached the largest number of members: remove some before inviting others."),
    /// 409: another request changed the same thing at the same time; retry.
    Conflict = ("conflict", CONFLICT,
        "Une autre demande a modifié les mêmes informations. Réessayez.",
        "Another request changed the same information. Try again."),
    /// 421: the local server answers only to its own address (a DNS-rebinding page names
    /// another host).
    HostNotAllowed = ("host_not_allowed", MISDIRECTED_REQUEST,
        "Ce serveur ne répond qu'à sa propre adresse.",
        "This server answers only to its own address."),
    /// 408: the request was not received in time.
    RequestTimeout = ("request_timeout", REQUEST_TIMEOUT,
        "La requête n'a pas été reçue à temps.",
        "The request was not received in time."),
    /// 500: a bug. Never expected; logged with its cause.
    Internal = ("internal", INTERNAL_SERVER_ERROR,
        "Une erreur inattendue est survenue.",
        "An unexpected error occurred."),
}

/// A failure as the client sees it: a stable code, optionally the offending field, a
/// detail safe to show, and hints (remaining attempts, retry delay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The stable code.
    pub code: ErrorCode,
    /// The request field at fault, when there is one.
    pub field: Option<String>,
    /// A client-safe technical detail (never a secret, never an internal cause).
    pub detail: Option<String>,
    /// Seconds after which a retry may succeed (`Retry-After`).
    pub retry_after: Option<u64>,
    /// Tries left, for wrong codes.
    pub remaining_attempts: Option<u32>,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code.as_str())?;
        if let Some(field) = &self.field {
            write!(f, " ({field})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl From<ErrorCode> for Error {
    fn from(code: ErrorCode) -> Self {
        Error::new(code)
    }
}

impl Error {
    /// An error with just a code.
    pub fn new(code: ErrorCode) -> Self {
        Error { code, field: None, detail: None, retry_after: None, remaining_attempts: None }
    }

    /// Names the request field at fault.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Adds a client-safe detail.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Adds a retry delay in seconds.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    /// Adds the number of tries left.
    pub fn remaining_attempts(mut self, n: u32) -> Self {
        self.remaining_attempts = Some(n);
        self
    }

    /// An internal failure: the cause is logged here, never sent to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        Error::new(ErrorCode::Internal)
    }

    /// A dependency is unavailable: the cause is logged, the client may retry.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(cause = %cause, "dependency unavailable");
        Error::new(ErrorCode::ServiceUnavailable).retry_after(2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_snake_case_unique_and_client_or_dependency_status() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {}", code.as_str());
            assert!(code.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            assert!(!code.message(Locale::Fr).is_empty() && !code.message(Locale::En).is_empty());
            assert_ne!(code.message(Locale::Fr), code.message(Locale::En));
        }
    }
}
