//! JSON logs, on stderr (CloudWatch Logs reads both streams). The metrics are
//! [`crate::web::metrics`]'s.

/// Sets up JSON logs filtered by `RUST_LOG` (`info`, `warn`, `signet_shared=debug,info`…;
/// default `info`). Safe to call twice.
pub fn init_logs() {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    // `Targets` parses the usual directives without a regex engine (smaller binaries).
    let filter: tracing_subscriber::filter::Targets = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| tracing_subscriber::filter::Targets::new().with_default(tracing::Level::INFO));
    let format = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_target(false)
        .without_time()
        .with_writer(std::io::stderr);
    let _ = tracing_subscriber::registry().with(filter).with(format).try_init();
}
