//! My subscriptions, signature recovery (seed 002: "your signature needs to be updated" or
//! "is no longer functional"), and the status of a certificate by serial.
//!
//! A recovery gives a reference number — ten characters without look-alikes, unique (its
//! record is created only if absent) — emailed to the professional or the verified alternate
//! address with an "Activate my signature" link. One recovery per signature at a time: a new
//! request replaces the pending one.
//!
//! The routes are declared once below; `subscriptions.rs` lists and answers certificate
//! statuses, `recover.rs` records a recovery.

mod recover;
mod subscriptions;

use crate::recover::recover;
use crate::subscriptions::{certificate_status, list};

signet_shared::routes! {
    GET "/subscriptions" => list,
    POST "/subscriptions/{id}/recovery" => recover,
    GET "/certificates/{serial}/status" => certificate_status,
}
