//! The application's assembly: the one place that builds [`Services`](crate::Services)
//! and picks the adapters, the Lambda boot, the daily job, and telemetry.

pub mod daily;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod telemetry;
pub mod wiring;
