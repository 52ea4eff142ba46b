//! Trusted devices (OWASP's "device cookies"): a browser or an app that signed in — the
//! password and the second factor — receives a device token naming it for that account.
//! Its failed logins are then counted apart from everyone else's, so that someone guessing
//! from elsewhere, who slows the account down or locks it for the hour, never locks out its
//! owner's own devices; and a source address over its limit still lets it in. A device
//! token proves nothing by itself: the password and the second factor are asked as ever.

use crate::domain::people::account::Person;
use crate::domain::sessions::access_token::DeviceClaims;
use crate::{domain::services::Services, error::Result};

/// The browser's cookie that carries the device token.
pub const DEVICE_COOKIE: &str = "signet_device";

/// How long a device stays trusted after it last signed in.
pub const DEVICE_LIFETIME: i64 = 365 * 86400;

/// A device token for a person who just proved the password and the second factor (a new
/// device id each time), valid while their password stays the same (`epoch`).
pub async fn issue(services: &Services, person_id: &str, epoch: u64) -> Result<String> {
    let settings = &services.config.tokens;
    let now = services.now();
    let claims = DeviceClaims {
        iss: settings.issuer.clone(),
        aud: settings.audience.clone(),
        sub: person_id.to_owned(),
        epoch,
        jti: services.new_id(),
        iat: now,
        exp: now + DEVICE_LIFETIME,
    };
    services.tokens.ring(services).await?.sign_device(&claims)
}

/// The id of the device a presented token names, when it is valid and was given to this
/// person since their password last changed; `None` otherwise (the attempt then counts with
/// every other client's).
pub async fn trusted(services: &Services, token: Option<&str>, person: &Person) -> Result<Option<String>> {
    let Some(token) = token.filter(|t| !t.is_empty() && t.len() <= 2048) else { return Ok(None) };
    let settings = &services.config.tokens;
    let ring = services.tokens.ring(services).await?;
    Ok(ring
        .verify_device(token, &settings.issuer, &settings.audience, services.now())
        .ok()
        .filter(|c| c.sub == person.id && c.epoch == person.session_epoch)
        .map(|c| c.jti))
}
