//! What Signet knows, by concern. Nothing here speaks HTTP or names a cloud or a database:
//! the domain talks to the world through [`crate::ports`] only.

pub mod audit;
pub mod billing;
pub mod calendar;
pub mod crypto;
pub mod keys;
pub mod messages;
pub mod organisations;
pub mod people;
pub mod retry;
pub mod second_factor;
pub mod secret_token;
pub mod services;
pub mod sessions;
pub mod signatures;
pub mod throttle;
