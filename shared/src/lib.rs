//! Signet's common crate, as a house whose arrows all point one way:
//! `web` and `app` → [`domain`] → [`ports`] ← [`adapters`].
//!
//! - [`domain`]: what Signet knows, by concern (people, second factor, sessions,
//!   signatures, billing) with small shared pieces (audit, messages, calendar, throttle,
//!   secret tokens, the table's keys). No HTTP, cloud or database crate is imported there.
//! - [`ports`]: every trait the domain talks to, with its value types.
//! - [`adapters`]: the AWS and embedded adapter sets, Stripe, the HTTPS client.
//! - [`web`]: extractors, problem+json rendering, the authenticated-request extractor.
//! - [`app`]: the one place that builds [`Services`] and picks the adapters; the Lambda
//!   boot; the daily job; telemetry.

#![warn(missing_docs)]

pub mod adapters;
pub mod app;
pub mod config;
pub mod domain;
pub mod error;
pub mod locale;
pub mod ports;
pub mod web;

pub use config::Config;
pub use domain::services::Services;
pub use error::{Error, ErrorCode, Result};
pub use locale::Locale;
