//! CloudWatch embedded-metric-format (EMF) metrics: one line on stdout per request's
//! outcome, which CloudWatch turns into metrics without any API call.

use std::io::Write as _;

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
