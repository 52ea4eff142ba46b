//! Cloud signatures: subscriptions, the certificate authority, certificates.

pub mod authority;
pub mod pin;
pub mod subscription;
pub mod x509;
