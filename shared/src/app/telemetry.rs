//! JSON logs and CloudWatch embedded-metric-format (EMF) metrics.
//!
//! Logs go to stderr as JSON lines (CloudWatch Logs reads both streams); metrics are EMF
//! lines on stdout, which CloudWatch turns into metrics without any API call.

use std::io::Write as _;

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

/// The metric namespace of every Signet metric.
pub const NAMESPACE: &str = "Signet";

/// One EMF line counting an outcome of a step (`Requests`, dimensions `Function` and
/// `Outcome`) and its latency (`Latency`, milliseconds).
pub fn emf_line(function: &str, outcome: &str, latency_ms: f64, timestamp_ms: i64) -> String {
    serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Function", "Outcome"]],
                "Metrics": [
                    {"Name": "Requests", "Unit": "Count"},
                    {"Name": "Latency", "Unit": "Milliseconds"}
                ]
            }]
        },
        "Function": function,
        "Outcome": outcome,
        "Requests": 1,
        "Latency": latency_ms,
    })
    .to_string()
}

/// Writes the EMF line of one outcome to stdout.
pub fn record_outcome(function: &str, outcome: &str, latency_ms: f64) {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    let line = emf_line(function, outcome, latency_ms, now);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

#[cfg(test)]
mod tests {
    #[test]
    fn emf_line_declares_its_metrics_and_dimensions() {
        let v: serde_json::Value =
            serde_json::from_str(&super::emf_line("signup", "signup.start.202", 3.5, 1)).unwrap();
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Signet");
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][1], "Outcome");
        assert_eq!(v["Requests"], 1);
        assert_eq!(v["Outcome"], "signup.start.202");
    }
}
