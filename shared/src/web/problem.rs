//! Errors as HTTP answers: RFC 9457 problem+json in the request's language, with the
//! status, `Retry-After` and `WWW-Authenticate` headers the code calls for.

use crate::{error::Error, error::ErrorCode, locale::Locale};
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};
use serde::Serialize;

impl Error {
    /// The RFC 9457 body in the given language.
    pub fn problem(&self, locale: Locale) -> Problem {
        Problem {
            type_uri: format!("/problems/{}", self.code.as_str().replace('_', "-")),
            title: self.code.message(locale).to_owned(),
            status: self.code.status(),
            code: self.code.as_str(),
            detail: self.detail.clone(),
            field: self.field.clone(),
            remaining_attempts: self.remaining_attempts,
            retry_after: self.retry_after,
        }
    }

    /// Renders the error as a problem+json response in the given language.
    pub fn to_response(&self, locale: Locale) -> Response {
        let body = serde_json::to_vec(&self.problem(locale)).unwrap_or_default();
        let status = StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(locale.tag()));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.code == ErrorCode::TokenInvalid {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The RFC 9457 problem details object, with Signet's extension members.
#[derive(Debug, Serialize)]
pub struct Problem {
    /// A URI reference naming the problem type (stable per code).
    #[serde(rename = "type")]
    pub type_uri: String,
    /// The localized, human-readable summary.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// The stable machine-readable code.
    pub code: &'static str,
    /// A client-safe detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Tries left for a code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_attempts: Option<u32>,
    /// Seconds before a retry may succeed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl IntoResponse for Error {
    /// Renders in English and leaves the error in the response extensions, where
    /// the layer of [`crate::web::finish`] re-renders it in the request's language.
    fn into_response(self) -> Response {
        let mut response = self.to_response(Locale::En);
        response.extensions_mut().insert(self);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_body_follows_rfc_9457() {
        let p = Error::new(ErrorCode::CodeInvalid).remaining_attempts(3).problem(Locale::Fr);
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["type"], "/problems/code-invalid");
        assert_eq!(v["status"], 422);
        assert_eq!(v["code"], "code_invalid");
        assert_eq!(v["title"], "Le code de confirmation est incorrect.");
        assert_eq!(v["remaining_attempts"], 3);
    }
}
