//! Serving the local application with timeouts: a client that sends its headers or its
//! body too slowly is cut off, and connections are bounded, so that a few hundred stalled
//! clients cannot starve the server (axum's own `serve` waits for ever).

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How long a client may take, and how many may be connected at once.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To send a request's headers (the first request, and each later one on a kept-alive
    /// connection: an idle connection is closed after as long).
    pub headers: Duration,
    /// To send a request's body (see [`crate::read_body_in_time`]).
    pub body: Duration,
    /// Connections served at once; more wait to be accepted.
    pub connections: usize,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { headers: Duration::from_secs(10), body: Duration::from_secs(15), connections: 512 }
    }
}

/// Serves `app` on `listener` until `shutdown` completes. Each request carries its peer's
/// address (`ConnectInfo`), as `axum::serve` gives it.
pub async fn run(
    listener: TcpListener,
    app: Router,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(timeouts.connections));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => return Ok(()),
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors, a connection reset before it was accepted: go on.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let app = app.clone();
        tokio::spawn(async move {
            let service =
                tower::ServiceExt::map_request(app, move |mut request: axum::http::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    request
                });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(timeouts.headers)
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended");
            }
            drop(permit);
        });
    }
}
