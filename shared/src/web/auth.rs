//! Who is calling: the authenticated-request extractor every signed-in step uses. Apps send
//! the access token as `Authorization: Bearer`; the browser sends it in an HttpOnly, Secure,
//! SameSite cookie, and then a state-changing request must carry an `Origin` equal to the
//! portal's (a cross-site form cannot).

use crate::domain::sessions::access_token::AccessClaims;
use crate::domain::sessions::session::Live;
use crate::web::browser;
use crate::{domain::services::Services, error::Error, error::ErrorCode, error::Result};
use axum::extract::FromRequestParts;
use http::request::Parts;
use http::{header, Method};

/// A request with a valid access token of a live session: the claims (the person, the
/// space it acts for, how they signed in) and the session and person as read for this
/// request. A token whose session ended (logout, revocation, a password change, its
/// absolute lifetime) is refused on every route, though its signature stays valid until
/// it expires: one batch read per request.
#[derive(Debug, Clone, PartialEq)]
pub struct Authenticated(pub AccessClaims, pub Live);

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<Services> for Authenticated {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, services: &Services) -> Result<Self, Self::Rejection> {
        let token = match bearer(parts) {
            Some(token) => token.to_owned(),
            None => {
                let token = browser::cookie_value(&parts.headers, browser::ACCESS_COOKIE)
                    .ok_or_else(|| Error::new(ErrorCode::TokenInvalid))?
                    .to_owned();
                let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
                if !safe && !browser::from_portal(&parts.headers, services) {
                    return Err(Error::new(ErrorCode::OriginRefused));
                }
                token
            }
        };
        // A token that is not even an ES256 JWT with a key id is refused before the key ring
        // is loaded: garbage costs no store or key-service call.
        let plausible = jsonwebtoken::decode_header(&token)
            .is_ok_and(|h| h.alg == jsonwebtoken::Algorithm::ES256 && h.kid.is_some());
        if !plausible {
            return Err(Error::new(ErrorCode::TokenInvalid));
        }
        let ring = services.tokens.ring(services).await?;
        let settings = &services.config.tokens;
        let claims = ring.verify(&token, &settings.issuer, &settings.audience, services.now())?;
        let live = Live::load(services, &claims).await?;
        Ok(Authenticated(claims, live))
    }
}

/// The IAM principal API Gateway authorised (HTTP API `AWS_IAM` authorizer), put in the
/// request's extensions by the Lambda entry point: only API Gateway sets it.
#[derive(Debug, Clone)]
pub struct IamCaller(pub String);

/// The header that carries the local operator token (the local server's stand-in for IAM).
pub const OPERATOR_TOKEN_HEADER: &str = "x-signet-operator-token";

/// A provider's operator: the IAM principal that API Gateway authorised when it is one of the
/// configured operator principals, or, where the configuration sets a local operator token,
/// whoever presents it. Anyone else is refused.
pub struct Operator(pub String);

impl FromRequestParts<Services> for Operator {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, services: &Services) -> Result<Self, Self::Rejection> {
        if let Some(IamCaller(arn)) = parts.extensions.get::<IamCaller>() {
            // Any principal allowed to invoke the API reaches here: only the configured
            // operator principals are operators.
            let principals = &services.config.organisations.operator_principals;
            if principals.iter().any(|p| arn.starts_with(p.as_str())) {
                return Ok(Operator(format!("iam:{arn}")));
            }
            tracing::warn!(principal = %arn, "an IAM principal that is not an operator called the operator API");
            return Err(Error::new(ErrorCode::TokenInvalid));
        }
        let presented = parts.headers.get(OPERATOR_TOKEN_HEADER).and_then(|v| v.to_str().ok());
        match (&services.config.organisations.operator_token, presented) {
            (Some(expected), Some(presented)) if crate::domain::crypto::same_secret(presented, &expected.0) => {
                Ok(Operator("local-operator".into()))
            }
            _ => Err(Error::new(ErrorCode::TokenInvalid)),
        }
    }
}
