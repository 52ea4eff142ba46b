//! The adapter sets: [`aws`] (DynamoDB, SES v2, SNS, SMS and Voice v2, KMS through the
//! real aws-sdk clients) and [`embedded`] (a redb database file, an outbox, a local key
//! file), each implementing every port; and the HTTPS client the outbound adapters share.

#[cfg(feature = "aws")]
pub mod aws;
pub mod company_registry;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod http_client;
pub mod local_payments;
pub mod stripe;
pub mod webhook_signature;
