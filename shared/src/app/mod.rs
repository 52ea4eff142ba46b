//! The application's assembly: the one place that builds [`Services`](services::Services)
//! and picks the adapters, the Lambda boot, and telemetry.

#[cfg(feature = "lambda")]
pub mod lambda;
pub mod services;
pub mod telemetry;
