//! Configuration from the environment: one typed struct, read once per cold start.
//! A bad value is a clear start-up error naming the variable (never echoing its value,
//! which might be a secret).

use std::collections::{BTreeSet, HashMap};

/// Signet's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Base URL of the portal; links in emails point under it (`SIGNET_PORTAL_URL`).
    pub portal_url: String,
    /// DynamoDB table name (`SIGNET_TABLE`).
    pub table: String,
    /// KMS key id or ARN for envelope encryption (`SIGNET_KMS_KEY_ID`).
    pub kms_key_id: String,
    /// KMS asymmetric key (ECC_NIST_P256, SIGN_VERIFY) of the certificate authority
    /// (`SIGNET_CA_KMS_KEY_ID`).
    pub ca_kms_key_id: String,
    /// Sender address of emails (`SIGNET_MAIL_FROM`).
    pub mail_from: String,
    /// Origination phone number or pool for voice calls (`SIGNET_VOICE_ORIGINATION`).
    pub voice_origination: Option<String>,
    /// Endpoint override for every AWS client, for tests against an emulator
    /// (`SIGNET_AWS_ENDPOINT_URL`).
    pub aws_endpoint_url: Option<String>,
    /// Endpoint override for the SMS and Voice v2 client (`SIGNET_VOICE_ENDPOINT_URL`).
    pub voice_endpoint_url: Option<String>,
    /// Emit CloudWatch embedded-metric-format lines (`SIGNET_METRICS`, default true).
    pub metrics: bool,
    /// The value CloudFront sends with every request it forwards to the API (header
    /// `X-Signet-Edge`, `SIGNET_EDGE_SECRET`, at least 32 characters): a request that carries
    /// it came through CloudFront, whose `CloudFront-Viewer-Address` then names the source.
    /// Unset: the source is the address API Gateway saw.
    pub edge_secret: Option<Secret>,
    /// Lifetimes and limits of the journeys.
    pub limits: Limits,
    /// Password hashing cost.
    pub argon2: Argon2Params,
    /// Access tokens.
    pub tokens: TokenSettings,
    /// Sign in with Google, when configured (`SIGNET_GOOGLE_CLIENT_ID`).
    pub google: Option<OidcSettings>,
    /// Payments and the terms of sale.
    pub payments: PaymentSettings,
    /// Organisations: the company registry, the temporary password's lifetime, operators.
    pub organisations: OrganisationSettings,
}

/// A secret from the environment: never printed, not even by `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Organisation settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationSettings {
    /// The INSEE Sirene API (`SIGNET_SIRENE_URL`, `SIGNET_SIRENE_API_KEY`), when configured.
    pub sirene: Option<SireneSettings>,
    /// A file-backed company registry (`SIGNET_REGISTRY_FILE`: the local server's demo data).
    pub registry_file: Option<String>,
    /// How long a temporary password works (`SIGNET_TEMPORARY_PASSWORD_TTL`, seconds,
    /// default 7 days).
    pub temporary_password_ttl: i64,
    /// How long an invitation link works (`SIGNET_INVITATION_TTL`, seconds, default 7 days).
    pub invitation_ttl: i64,
    /// Registrations a source address may make per hour
    /// (`SIGNET_REGISTRATIONS_PER_SOURCE_PER_HOUR`, default 10).
    pub registrations_per_source_per_hour: u32,
    /// The local operator token (`SIGNET_OPERATOR_TOKEN`): the local server's stand-in for
    /// IAM in front of the operator API. Unset: the local operator API refuses everyone.
    pub operator_token: Option<Secret>,
    /// The IAM principals that are operators (`SIGNET_OPERATOR_PRINCIPALS`: ARN prefixes,
    /// comma-separated, such as the operator role's assumed-role ARN followed by `/`). Another
    /// principal API Gateway authorised is refused; none set refuses every one.
    pub operator_principals: Vec<String>,
}

/// The INSEE Sirene API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SireneSettings {
    /// Base URL (`https://api.insee.fr/api-sirene/3.11`).
    pub base_url: String,
    /// The integration key (`X-INSEE-Api-Key-Integration`).
    pub api_key: Secret,
}

/// Payments and the terms of sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentSettings {
    /// Stripe, when configured (`SIGNET_STRIPE_SECRET_KEY`); otherwise the local hosted
    /// payment page of the embedded back end.
    pub stripe: Option<StripeSettings>,
    /// The webhook signing secret (`SIGNET_PAYMENT_WEBHOOK_SECRET`, Stripe's `whsec_…`). The
    /// local server makes one per start when unset; a Lambda without it refuses every webhook.
    pub webhook_secret: Option<Secret>,
    /// Where the local hosted payment page is served (`SIGNET_PAYMENT_PAGE_URL`, default the
    /// portal URL).
    pub page_url: String,
    /// The version of the terms of sale a buyer must accept (`SIGNET_TERMS_VERSION`).
    pub terms_version: String,
    /// Where the terms of sale are published (`SIGNET_TERMS_URL`).
    pub terms_url: String,
    /// Days an organisation has to pay its invoice (`SIGNET_INVOICE_PAYMENT_DAYS`, default 30).
    pub invoice_payment_days: i64,
}

/// The Stripe adapter's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeSettings {
    /// The secret API key (`SIGNET_STRIPE_SECRET_KEY`).
    pub secret_key: Secret,
    /// The API's base URL (`SIGNET_STRIPE_API_URL`, default `https://api.stripe.com`).
    pub api_url: String,
}

/// An OpenID Connect identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// Our client id: the `aud` of its ID tokens (`SIGNET_GOOGLE_CLIENT_ID`).
    pub client_id: String,
    /// Its issuer (`SIGNET_GOOGLE_ISSUER`, default `https://accounts.google.com`).
    pub issuer: String,
    /// Where its keys are published (`SIGNET_GOOGLE_JWKS_URL`, default Google's).
    pub jwks_url: String,
}

/// Access-token settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenSettings {
    /// `iss` of access tokens (`SIGNET_TOKEN_ISSUER`, default the portal URL).
    pub issuer: String,
    /// `aud` of access tokens (`SIGNET_TOKEN_AUDIENCE`, default `signet-api`).
    pub audience: String,
    /// Access-token lifetime in seconds (`SIGNET_ACCESS_TOKEN_TTL`, default 600, at most 3600).
    pub access_ttl: i64,
    /// How long a session may go unused before it ends; each refresh starts it again
    /// (`SIGNET_SESSION_IDLE_TTL`, default 30 days).
    pub session_idle_ttl: i64,
    /// How long a session lives at most, however often it is refreshed: then a new login
    /// is needed (`SIGNET_SESSION_MAX_LIFETIME`, default 90 days).
    pub session_max_lifetime: i64,
}

/// Lifetimes and limits (seconds and counts).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// How long an emailed link stays valid (`SIGNET_LINK_TTL`, default 3600).
    pub link_ttl: i64,
    /// How long an unfinished sign-up is kept (`SIGNET_SIGNUP_TTL`, default 86400).
    pub signup_ttl: i64,
    /// How long a one-time code stays valid (`SIGNET_CODE_TTL`, default 600, at most 600).
    pub code_ttl: i64,
    /// Minimum delay between two codes sent for one operation (`SIGNET_CODE_RESEND_INTERVAL`, default 30).
    pub code_resend_interval: i64,
    /// Codes one operation may send (`SIGNET_CODE_MAX_SENDS`, default 5).
    pub code_max_sends: u32,
    /// Wrong codes before an operation ends (`SIGNET_CODE_MAX_ATTEMPTS`, default 5, at most 5).
    pub code_max_attempts: u32,
    /// Sign-up link emails per address per hour (`SIGNET_SIGNUP_MAILS_PER_HOUR`, default 5).
    pub signup_mails_per_hour: u32,
    /// Codes sent to one phone number per hour, all operations together
    /// (`SIGNET_CODES_PER_PHONE_PER_HOUR`, default 10): bounds SMS and call flooding.
    pub codes_per_phone_per_hour: u32,
    /// Sign-up starts and profiles per source address per hour
    /// (`SIGNET_SIGNUPS_PER_SOURCE_PER_HOUR`, default 60).
    pub signups_per_source_per_hour: u32,
    /// Codes (SMS and calls) one source address may trigger per hour, all steps together
    /// (`SIGNET_CODES_PER_SOURCE_PER_HOUR`, default 60).
    pub codes_per_source_per_hour: u32,
    /// Second-factor phone changes per person per hour (`SIGNET_PHONE_CHANGES_PER_PERSON_PER_HOUR`,
    /// default 3).
    pub phone_changes_per_person_per_hour: u32,
    /// Second-factor phone changes per source address per hour
    /// (`SIGNET_PHONE_CHANGES_PER_SOURCE_PER_HOUR`, default 10).
    pub phone_changes_per_source_per_hour: u32,
    /// The countries whose numbers may receive codes (`SIGNET_PHONE_COUNTRIES`: ISO 3166-1
    /// alpha-2 codes, `EU` for the European Union; default `FR,CA,EU`).
    pub phone_countries: BTreeSet<String>,
}

/// argon2id cost parameters (`SIGNET_ARGON2_M_KIB`, `SIGNET_ARGON2_T`, `SIGNET_ARGON2_P`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB (default 19456, at least 19456).
    pub m_kib: u32,
    /// Iterations (default 2, at least 2).
    pub t: u32,
    /// Parallelism (default 1).
    pub p: u32,
}

/// A configuration variable has a bad value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration: {var} {reason}")]
pub struct ConfigError {
    /// The variable.
    pub var: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl Config {
    /// Reads a given set of variables (the environment, or a test's).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let v = Vars(vars);
        let metrics = match v.get("SIGNET_METRICS").as_deref() {
            None | Some("true") | Some("1") => true,
            Some("false") | Some("0") => false,
            Some(_) => return Err(ConfigError { var: "SIGNET_METRICS", reason: "must be true or false".into() }),
        };
        let mail_from = v.get("SIGNET_MAIL_FROM").unwrap_or_else(|| "no-reply@example.com".into());
        let portal_url = portal(&v)?;
        let issuer = v.url("SIGNET_TOKEN_ISSUER", &portal_url)?;
        let payments = payments(&v, &portal_url)?;
        Ok(Config {
            table: v.get("SIGNET_TABLE").unwrap_or_else(|| "signet".into()),
            kms_key_id: v.get("SIGNET_KMS_KEY_ID").unwrap_or_else(|| "alias/signet".into()),
            ca_kms_key_id: v.get("SIGNET_CA_KMS_KEY_ID").unwrap_or_else(|| "alias/signet-ca".into()),
            mail_from,
            voice_origination: v.get("SIGNET_VOICE_ORIGINATION"),
            aws_endpoint_url: v
                .get("SIGNET_AWS_ENDPOINT_URL")
                .map(|_| v.url("SIGNET_AWS_ENDPOINT_URL", ""))
                .transpose()?,
            voice_endpoint_url: v
                .get("SIGNET_VOICE_ENDPOINT_URL")
                .map(|_| v.url("SIGNET_VOICE_ENDPOINT_URL", ""))
                .transpose()?,
            metrics,
            edge_secret: edge_secret(&v)?,
            portal_url,
            limits: limits(&v)?,
            tokens: tokens(&v, issuer)?,
            google: match v.get("SIGNET_GOOGLE_CLIENT_ID") {
                None => None,
                Some(client_id) => Some(OidcSettings {
                    client_id,
                    issuer: v.url("SIGNET_GOOGLE_ISSUER", "https://accounts.google.com")?,
                    jwks_url: v.url("SIGNET_GOOGLE_JWKS_URL", "https://www.googleapis.com/oauth2/v3/certs")?,
                }),
            },
            payments,
            organisations: organisations(&v)?,
            argon2: Argon2Params {
                m_kib: v.number("SIGNET_ARGON2_M_KIB", 19456, 19456, 1 << 21)?,
                t: v.number("SIGNET_ARGON2_T", 2, 2, 20)?,
                p: v.number("SIGNET_ARGON2_P", 1, 1, 16)?,
            },
        })
    }

    /// The defaults, as with an empty environment.
    pub fn defaults() -> Config {
        Config::from_vars(&HashMap::new()).expect("defaults are valid")
    }
}

/// The variables configuration is read from, with their parsing rules.
struct Vars<'a>(&'a HashMap<String, String>);

impl Vars<'_> {
    /// A variable's trimmed value, if set and not empty.
    fn get(&self, var: &'static str) -> Option<String> {
        self.0.get(var).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// An http(s) URL, without its trailing slashes.
    fn url(&self, var: &'static str, default: &str) -> Result<String, ConfigError> {
        let value = self.get(var).unwrap_or_else(|| default.to_owned());
        if !(value.starts_with("https://") || value.starts_with("http://")) {
            return Err(ConfigError { var, reason: "must be an http(s) URL".into() });
        }
        Ok(value.trim_end_matches('/').to_owned())
    }

    /// A number between `min` and `max`, `default` when not set.
    fn number<T: std::str::FromStr + PartialOrd + Copy + std::fmt::Display>(
        &self,
        var: &'static str,
        default: T,
        min: T,
        max: T,
    ) -> Result<T, ConfigError> {
        let Some(text) = self.get(var) else { return Ok(default) };
        let n: T = text.parse().map_err(|_| ConfigError { var, reason: "must be a number".into() })?;
        if n < min || n > max {
            return Err(ConfigError { var, reason: format!("must be between {min} and {max}") });
        }
        Ok(n)
    }
}

/// The organisations section of the configuration.
fn organisations(v: &Vars<'_>) -> Result<OrganisationSettings, ConfigError> {
    let sirene = match v.get("SIGNET_SIRENE_API_KEY") {
        None => None,
        Some(key) => Some(SireneSettings {
            base_url: v.url("SIGNET_SIRENE_URL", "https://api.insee.fr/api-sirene/3.11")?,
            api_key: Secret(key),
        }),
    };
    let operator_token = v.get("SIGNET_OPERATOR_TOKEN").map(Secret);
    if operator_token.as_ref().is_some_and(|t| t.0.len() < 32) {
        return Err(ConfigError { var: "SIGNET_OPERATOR_TOKEN", reason: "must be at least 32 characters".into() });
    }
    Ok(OrganisationSettings {
        sirene,
        registry_file: v.get("SIGNET_REGISTRY_FILE"),
        temporary_password_ttl: v.number("SIGNET_TEMPORARY_PASSWORD_TTL", 7 * 86400, 3600, 30 * 86400)?,
        invitation_ttl: v.number("SIGNET_INVITATION_TTL", 7 * 86400, 3600, 30 * 86400)?,
        registrations_per_source_per_hour: v.number("SIGNET_REGISTRATIONS_PER_SOURCE_PER_HOUR", 10, 1, 10_000)?,
        operator_token,
        operator_principals: operator_principals(v)?,
    })
}

/// The origin (`scheme://host[:port]`) of a URL.
pub fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// `SIGNET_PORTAL_URL`: HTTPS, or plain HTTP on loopback only (the local server), where a
/// browser's session cookies may go without `Secure`. Lower case, without a trailing slash:
/// the `Origin` of the portal's pages is compared with it as it is.
fn portal(v: &Vars<'_>) -> Result<String, ConfigError> {
    let url = v.url("SIGNET_PORTAL_URL", "http://127.0.0.1:3000")?;
    let origin = origin_of(&url).to_ascii_lowercase();
    let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|host| origin == *host || origin.strip_prefix(host).is_some_and(|rest| rest.starts_with(':')));
    if origin.starts_with("http://") && !loopback {
        return Err(ConfigError {
            var: "SIGNET_PORTAL_URL",
            reason: "must be https:// (http:// on loopback only)".into(),
        });
    }
    Ok(format!("{origin}{}", &url[origin.len()..]))
}

/// `SIGNET_EDGE_SECRET`: unset or empty (CloudFront not in front), else 32 characters or more.
fn edge_secret(v: &Vars<'_>) -> Result<Option<Secret>, ConfigError> {
    match v.get("SIGNET_EDGE_SECRET").filter(|s| !s.is_empty()) {
        Some(s) if s.len() < 32 => {
            Err(ConfigError { var: "SIGNET_EDGE_SECRET", reason: "must be at least 32 characters".into() })
        }
        secret => Ok(secret.map(Secret)),
    }
}

/// `SIGNET_OPERATOR_PRINCIPALS`: ARN prefixes that each name a role or user precisely.
fn operator_principals(v: &Vars<'_>) -> Result<Vec<String>, ConfigError> {
    let Some(list) = v.get("SIGNET_OPERATOR_PRINCIPALS") else { return Ok(vec![]) };
    let principals: Vec<String> = list.split(',').map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect();
    // `arn:aws:sts::<account>:assumed-role/<role>/` at least: never a whole account.
    let precise = |p: &String| p.starts_with("arn:") && p.split(':').nth(5).is_some_and(|r| r.contains('/'));
    if !principals.iter().all(precise) {
        return Err(ConfigError {
            var: "SIGNET_OPERATOR_PRINCIPALS",
            reason: "must be ARN prefixes naming a role or user (arn:...:assumed-role/<role>/)".into(),
        });
    }
    Ok(principals)
}

/// The limits section of the configuration.
fn limits(v: &Vars<'_>) -> Result<Limits, ConfigError> {
    Ok(Limits {
        link_ttl: v.number("SIGNET_LINK_TTL", 3600, 60, 7 * 86400)?,
        signup_ttl: v.number("SIGNET_SIGNUP_TTL", 86400, 600, 30 * 86400)?,
        code_ttl: v.number("SIGNET_CODE_TTL", 600, 60, 600)?,
        code_resend_interval: v.number("SIGNET_CODE_RESEND_INTERVAL", 30, 0, 3600)?,
        code_max_sends: v.number("SIGNET_CODE_MAX_SENDS", 5, 1, 20)?,
        code_max_attempts: v.number("SIGNET_CODE_MAX_ATTEMPTS", 5, 1, 5)?,
        signup_mails_per_hour: v.number("SIGNET_SIGNUP_MAILS_PER_HOUR", 5, 1, 100)?,
        codes_per_phone_per_hour: v.number("SIGNET_CODES_PER_PHONE_PER_HOUR", 10, 1, 100_000)?,
        signups_per_source_per_hour: v.number("SIGNET_SIGNUPS_PER_SOURCE_PER_HOUR", 60, 1, 100_000)?,
        codes_per_source_per_hour: v.number("SIGNET_CODES_PER_SOURCE_PER_HOUR", 60, 1, 100_000)?,
        phone_changes_per_person_per_hour: v.number("SIGNET_PHONE_CHANGES_PER_PERSON_PER_HOUR", 3, 1, 20)?,
        phone_changes_per_source_per_hour: v.number("SIGNET_PHONE_CHANGES_PER_SOURCE_PER_HOUR", 10, 1, 100_000)?,
        phone_countries: countries(&v.get("SIGNET_PHONE_COUNTRIES").unwrap_or_else(|| "FR,CA,EU".into())).ok_or(
            ConfigError {
                var: "SIGNET_PHONE_COUNTRIES",
                reason: "must be ISO 3166-1 alpha-2 country codes or EU, separated by commas".into(),
            },
        )?,
    })
}

/// The access tokens and sessions section of the configuration.
fn tokens(v: &Vars<'_>, issuer: String) -> Result<TokenSettings, ConfigError> {
    Ok(TokenSettings {
        issuer,
        audience: v.get("SIGNET_TOKEN_AUDIENCE").unwrap_or_else(|| "signet-api".into()),
        access_ttl: v.number("SIGNET_ACCESS_TOKEN_TTL", 600, 60, 3600)?,
        session_idle_ttl: v.number("SIGNET_SESSION_IDLE_TTL", 30 * 86400, 600, 365 * 86400)?,
        session_max_lifetime: v.number("SIGNET_SESSION_MAX_LIFETIME", 90 * 86400, 600, 365 * 86400)?,
    })
}

/// The payments section of the configuration.
fn payments(v: &Vars<'_>, portal_url: &str) -> Result<PaymentSettings, ConfigError> {
    Ok(PaymentSettings {
        stripe: match v.get("SIGNET_STRIPE_SECRET_KEY") {
            None => None,
            Some(key) => Some(StripeSettings {
                secret_key: Secret(key),
                api_url: v.url("SIGNET_STRIPE_API_URL", "https://api.stripe.com")?,
            }),
        },
        webhook_secret: v.get("SIGNET_PAYMENT_WEBHOOK_SECRET").map(Secret),
        page_url: v.url("SIGNET_PAYMENT_PAGE_URL", portal_url)?,
        terms_version: v.get("SIGNET_TERMS_VERSION").unwrap_or_else(|| "2026-01".into()),
        terms_url: v.url("SIGNET_TERMS_URL", &format!("{portal_url}/terms-of-sale"))?,
        invoice_payment_days: v.number("SIGNET_INVOICE_PAYMENT_DAYS", 30, 0, 120)?,
    })
}

/// The member states of the European Union, and the outermost regions libphonenumber
/// numbers apart (Guadeloupe, Martinique, French Guiana, Réunion, Mayotte, Saint-Martin).
pub const EU: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT",
    "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "GP", "MQ", "GF", "RE", "YT", "MF",
];

/// The allowed countries of a configuration value: ISO 3166-1 alpha-2 codes separated by
/// commas, `EU` standing for [`EU`] (`FR,CA,EU`). `None` when an entry is neither.
pub fn countries(list: &str) -> Option<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for entry in list.split(',').map(|e| e.trim().to_ascii_uppercase()).filter(|e| !e.is_empty()) {
        if entry == "EU" {
            out.extend(EU.iter().map(|c| c.to_string()));
        } else if entry.len() == 2 && entry.bytes().all(|b| b.is_ascii_uppercase()) {
            out.insert(entry);
        } else {
            return None;
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_are_safe() {
        let c = Config::defaults();
        assert_eq!(c.limits.code_ttl, 600);
        assert_eq!(c.limits.code_max_attempts, 5);
        assert_eq!(c.argon2, Argon2Params { m_kib: 19456, t: 2, p: 1 });
    }

    #[test]
    fn origin_is_scheme_host_and_port() {
        assert_eq!(origin_of("https://portal.example.com/app"), "https://portal.example.com");
        assert_eq!(origin_of("http://127.0.0.1:3000"), "http://127.0.0.1:3000");
    }

    #[test]
    fn the_portal_is_https_or_loopback() {
        let portal = |url: &str| Config::from_vars(&vars(&[("SIGNET_PORTAL_URL", url)])).map(|c| c.portal_url);
        assert_eq!(portal("https://Portal.Example.com/").unwrap(), "https://portal.example.com");
        assert_eq!(portal("http://127.0.0.1:3000").unwrap(), "http://127.0.0.1:3000");
        assert_eq!(portal("http://localhost").unwrap(), "http://localhost");
        assert_eq!(portal("http://portal.example.com").unwrap_err().var, "SIGNET_PORTAL_URL");
        assert_eq!(portal("http://127.0.0.1.example.com").unwrap_err().var, "SIGNET_PORTAL_URL");
        let edge = |s: &str| Config::from_vars(&vars(&[("SIGNET_EDGE_SECRET", s)])).map(|c| c.edge_secret.is_some());
        assert!(!edge("").unwrap());
        assert!(edge(&"x".repeat(32)).unwrap());
        assert_eq!(edge("short").unwrap_err().var, "SIGNET_EDGE_SECRET");
    }

    #[test]
    fn a_bad_value_names_the_variable_but_not_the_value() {
        let e = Config::from_vars(&vars(&[("SIGNET_CODE_TTL", "s3cr3t")])).unwrap_err();
        assert_eq!(e.var, "SIGNET_CODE_TTL");
        assert!(!e.to_string().contains("s3cr3t"));
        let e = Config::from_vars(&vars(&[("SIGNET_CODE_MAX_ATTEMPTS", "50")])).unwrap_err();
        assert_eq!(e.var, "SIGNET_CODE_MAX_ATTEMPTS");
        let e = Config::from_vars(&vars(&[("SIGNET_ARGON2_M_KIB", "1024")])).unwrap_err();
        assert_eq!(e.var, "SIGNET_ARGON2_M_KIB");
        let c = Config::from_vars(&vars(&[
            ("SIGNET_STRIPE_SECRET_KEY", "sk_test_s3cr3t"),
            ("SIGNET_PAYMENT_WEBHOOK_SECRET", "whsec_s3cr3t"),
        ]))
        .unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t"), "secrets are not printed");
        let e = Config::from_vars(&vars(&[("SIGNET_PORTAL_URL", "portal.example.com")])).unwrap_err();
        assert_eq!(e.var, "SIGNET_PORTAL_URL");
    }
}
