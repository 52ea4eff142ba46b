//! Signet's common crate: the domain every function shares, the ports it talks to and
//! the two adapter sets (AWS and embedded) that implement them.
//!
//! Dependencies point inward: functions use the domain modules here; the domain talks to
//! the ports in [`ports`]; adapters in [`adapters`] implement the ports.

#![warn(missing_docs)]

pub mod account;
pub mod adapters;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod ca;
pub mod challenge;
pub mod config;
pub mod crypto;
pub mod devices;
pub mod email;
pub mod email_link;
pub mod error;
pub mod factor;
pub mod http;
pub mod http_client;
pub mod invoice;
pub mod locale;
pub mod messages;
pub mod names;
pub mod oidc;
pub mod otp;
pub mod password;
pub mod payment;
pub mod phone;
pub mod ports;
pub mod reminders;
pub mod renewal;
pub mod services;
pub mod sessions;
pub mod store;
pub mod subscription;
pub mod telemetry;
pub mod throttle;
pub mod tokens;
pub mod totp;
pub mod x509;

#[cfg(feature = "lambda")]
pub mod lambda;

pub use config::Config;
pub use error::{Error, ErrorCode, Result};
pub use locale::Locale;
pub use services::Services;
