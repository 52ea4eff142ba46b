//! The application's assembly: the one place that builds [`Services`](crate::domain::services::Services)
//! and picks the adapters, the Lambda boot, the daily job, and telemetry.

pub mod daily;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod telemetry;
#[cfg(any(feature = "aws", feature = "embedded"))]
pub mod wiring;

use crate::config::{Config, ConfigError};
use std::collections::HashMap;

/// The configuration of a Lambda or the local server, from its variables (the process
/// environment, or a test's): parsed, then checked against the domain's rules (the sender
/// of emails must hold a valid address).
pub fn configuration(vars: &HashMap<String, String>) -> Result<Config, ConfigError> {
    let config = Config::from_vars(vars)?;
    if !crate::domain::people::email::is_valid_sender(&config.mail_from) {
        return Err(ConfigError { var: "SIGNET_MAIL_FROM", reason: "must be an email address".into() });
    }
    Ok(config)
}
