//! People: persons and their spaces, email addresses, phone numbers, names, passwords.

pub mod account;
pub mod email;
pub mod names;
pub mod password;
pub mod phone;
pub mod security_questions;
