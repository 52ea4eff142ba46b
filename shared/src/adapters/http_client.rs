//! A minimal HTTPS client for the few calls Signet makes itself (an identity provider's
//! public keys, the payment provider's API). The client is built on first use (the trust store is read then, not at
//! every cold start); plain HTTP is allowed only to the loopback address, for tests.

use crate::{error::Error, error::Result};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::OnceLock;
use std::time::Duration;

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

fn client() -> Result<&'static Client<Https, Full<bytes::Bytes>>> {
    static CLIENT: OnceLock<Client<Https, Full<bytes::Bytes>>> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client);
    }
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| Error::unavailable(format!("trust store: {e}")))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(CLIENT.get_or_init(|| Client::builder(TokioExecutor::new()).build(connector)))
}

/// HTTPS anywhere; plain HTTP only to the loopback address; never credentials in the URL.
fn allowed(uri: &http::Uri) -> bool {
    let Some(authority) = uri.authority() else { return false };
    if authority.as_str().contains('@') {
        return false;
    }
    match uri.scheme_str() {
        Some("https") => true,
        Some("http") => matches!(authority.host(), "127.0.0.1" | "localhost" | "[::1]"),
        _ => false,
    }
}

/// Fetches `url` (HTTPS, or HTTP to 127.0.0.1) and returns its body, at most `max_bytes`.
/// Any failure is a retryable `service_unavailable`.
pub async fn get(url: &str, max_bytes: usize) -> Result<bytes::Bytes> {
    let (status, body) = send(http::Method::GET, url, &[], bytes::Bytes::new(), max_bytes).await?;
    if !status.is_success() {
        return Err(Error::unavailable(format!("fetch of {url}: status {status}")));
    }
    Ok(body)
}

/// The documents port on this client.
pub struct HttpsDocuments;

#[async_trait::async_trait]
impl crate::ports::Documents for HttpsDocuments {
    async fn get(&self, url: &str, max_bytes: usize) -> Result<Vec<u8>> {
        Ok(get(url, max_bytes).await?.to_vec())
    }
}

/// Sends a request (HTTPS, or HTTP to 127.0.0.1) and returns its status and body, at most
/// `max_bytes`. A failure to get an answer is a retryable `service_unavailable`; the
/// caller judges the status. Header values are never logged (they may carry a key).
pub async fn send(
    method: http::Method,
    url: &str,
    headers: &[(&str, &str)],
    body: bytes::Bytes,
    max_bytes: usize,
) -> Result<(http::StatusCode, bytes::Bytes)> {
    let uri: http::Uri = url.parse().map_err(Error::internal)?;
    if !allowed(&uri) {
        return Err(Error::internal("a call to a URL that is neither HTTPS nor loopback"));
    }
    let mut request = http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(body)).map_err(Error::internal)?;
    let response = tokio::time::timeout(Duration::from_secs(10), client()?.request(request))
        .await
        .map_err(|_| Error::unavailable(format!("call to {url} timed out")))?
        .map_err(|e| Error::unavailable(format!("call to {url}: {e}")))?;
    let status = response.status();
    let body = Limited::new(response.into_body(), max_bytes);
    let collected = tokio::time::timeout(Duration::from_secs(10), body.collect())
        .await
        .map_err(|_| Error::unavailable(format!("call to {url} timed out")))?
        .map_err(|e| Error::unavailable(format!("call to {url}: {e}")))?;
    Ok((status, collected.to_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_https_or_loopback_http_without_credentials() {
        let ok = |u: &str| super::allowed(&u.parse().unwrap());
        assert!(ok("https://www.googleapis.com/oauth2/v3/certs"));
        assert!(ok("http://127.0.0.1:8080/jwks"));
        assert!(ok("http://localhost:8080/jwks"));
        assert!(!ok("http://www.googleapis.com/oauth2/v3/certs"));
        assert!(!ok("http://localhost:@evil.example/jwks"));
        assert!(!ok("https://user:pw@evil.example/jwks"));
        assert!(!ok("http://127.0.0.1.evil.example/jwks"));
        assert!(!ok("ftp://127.0.0.1/jwks"));
    }
}
