//! Sign in with an OpenID Connect provider (Google): the ID token the browser or the app got
//! from the provider is verified here — RS256 signature against the provider's published
//! keys (JWKS), issuer, audience (our client id), expiry, and a verified email — and only
//! then names the person with that email. The second factor still applies afterwards.
//!
//! The provider's issuer, JWKS URL and our client id are configuration, so tests and the
//! local server use a local issuer with its own keys. The keys are fetched once per
//! instance, again after an hour, and at most once a minute when a token names an unknown
//! key id (the provider rotated its keys).

use crate::config::OidcSettings;
use crate::domain::people::email::EmailAddress;
use crate::ports::Documents;
use crate::{error::Error, error::ErrorCode, error::Result};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// How long fetched keys are used.
const KEYS_TTL: i64 = 3600;
/// The least delay between two fetches caused by unknown key ids.
const REFETCH_DELAY: i64 = 60;
/// The largest JWKS document accepted.
const MAX_JWKS_BYTES: usize = 64 * 1024;

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize, Clone)]
struct Jwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

#[derive(Clone)]
struct Fetched {
    keys: HashMap<String, (String, String)>,
    at: i64,
}

fn cache() -> &'static Mutex<HashMap<String, Fetched>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Fetched>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// What a verified ID token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// The provider's stable user id (`sub`).
    pub subject: String,
    /// The verified email.
    pub email: EmailAddress,
}

/// Domains whose addresses Google itself hands out: Google is the authority on them.
const GOOGLE_MAIL_DOMAINS: &[&str] = &["gmail.com", "googlemail.com"];

#[derive(Deserialize)]
struct IdClaims {
    sub: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
    /// The Google Workspace domain of the account, when it is one.
    #[serde(default)]
    hd: Option<String>,
}

fn rejected(reason: &str) -> Error {
    tracing::info!(reason, "external identity token refused");
    Error::new(ErrorCode::ExternalTokenInvalid)
}

/// Verifies an ID token of the configured provider at `now`.
pub async fn verify(
    documents: &dyn Documents,
    settings: &OidcSettings,
    id_token: &str,
    now: i64,
) -> Result<VerifiedIdentity> {
    if id_token.len() > 8192 {
        return Err(rejected("too long"));
    }
    let header = jsonwebtoken::decode_header(id_token).map_err(|_| rejected("malformed"))?;
    if header.alg != Algorithm::RS256 {
        return Err(rejected("algorithm"));
    }
    let kid = header.kid.ok_or_else(|| rejected("no key id"))?;
    let (n, e) = key(documents, settings, &kid, now).await?;
    let decoding = DecodingKey::from_rsa_components(&n, &e).map_err(|_| rejected("bad key"))?;
    let mut validation = Validation::new(Algorithm::RS256);
    // Google writes its issuer with and without the scheme.
    let bare = settings.issuer.trim_start_matches("https://").to_owned();
    validation.set_issuer(&[settings.issuer.as_str(), bare.as_str()]);
    validation.set_audience(&[settings.client_id.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub", "iat"]);
    validation.leeway = 60;
    validation.validate_exp = false;
    let data = jsonwebtoken::decode::<serde_json::Value>(id_token, &decoding, &validation)
        .map_err(|_| rejected("signature or claims"))?;
    // Expiry against our clock (the port), not the system's.
    let exp = data.claims.get("exp").and_then(|v| v.as_i64()).ok_or_else(|| rejected("exp"))?;
    let iat = data.claims.get("iat").and_then(|v| v.as_i64()).ok_or_else(|| rejected("iat"))?;
    if exp + validation.leeway as i64 <= now || iat > now + validation.leeway as i64 {
        return Err(rejected("expired"));
    }
    let claims: IdClaims = serde_json::from_value(data.claims).map_err(|_| rejected("claims"))?;
    let verified = matches!(claims.email_verified, Some(serde_json::Value::Bool(true)))
        || matches!(claims.email_verified.as_ref().and_then(|v| v.as_str()), Some("true"));
    if !verified {
        return Err(rejected("email not verified"));
    }
    let email = EmailAddress::parse(claims.email.as_deref().unwrap_or_default()).map_err(|_| rejected("email"))?;
    // A verified email proves the mailbox only where Google is its authority: Gmail, or the
    // Workspace domain the account belongs to. A consumer Google account opened on some other
    // address says nothing of who holds that mailbox today.
    let domain = email.as_str().rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    let authoritative =
        GOOGLE_MAIL_DOMAINS.contains(&domain) || claims.hd.as_deref().is_some_and(|hd| hd.eq_ignore_ascii_case(domain));
    if !authoritative {
        return Err(rejected("email outside Google's authority"));
    }
    Ok(VerifiedIdentity { subject: claims.sub, email })
}

/// The RSA key (n, e) of `kid`, from the cache or freshly fetched.
async fn key(documents: &dyn Documents, settings: &OidcSettings, kid: &str, now: i64) -> Result<(String, String)> {
    let cached = cache().lock().map_err(Error::internal)?.get(&settings.jwks_url).cloned();
    if let Some(fetched) = &cached {
        let fresh = now - fetched.at < KEYS_TTL;
        if let Some(key) = fetched.keys.get(kid).filter(|_| fresh) {
            return Ok(key.clone());
        }
        if fresh && now - fetched.at < REFETCH_DELAY {
            return Err(rejected("unknown key id"));
        }
    }
    let body = documents.get(&settings.jwks_url, MAX_JWKS_BYTES).await?;
    let jwks: Jwks =
        serde_json::from_slice(&body).map_err(|_| Error::unavailable("identity provider keys are not a JWKS"))?;
    let keys: HashMap<String, (String, String)> = jwks
        .keys
        .into_iter()
        .filter(|k| k.kty == "RSA" && k.alg.as_deref().is_none_or(|a| a == "RS256"))
        .filter_map(|k| Some((k.kid?, (k.n?, k.e?))))
        .collect();
    let found = keys.get(kid).cloned();
    cache().lock().map_err(Error::internal)?.insert(settings.jwks_url.clone(), Fetched { keys, at: now });
    found.ok_or_else(|| rejected("unknown key id"))
}
