//! Signature activation (seed 002, and the first activation of a new subscription): signed
//! in, the person gives the reference number and the code sent to their second-factor phone
//! (or their authenticator app's code). Then, in this order and safe to retry at every step:
//! a new P-256 key pair, its private key sealed under KMS (context naming the subscription);
//! a certificate issued for it by the certificate authority; the previous certificate
//! revoked; the subscription functional again; a confirmation email; the success message.
//!
//! Every step is a conditional write on the recovery record, so a retry after a KMS or mail
//! failure resumes where it stopped, and racing activations end with one certificate (its
//! serial is chosen with the key and recorded once).
//!
//! The activation form also takes the signature's PIN (seed 003, step 12: 4 to 8 digits,
//! kept as an argon2id hash); a forgotten PIN is reset with a second-factor session and the
//! answers to the person's security questions.
//!
//! The routes are declared once below; `start.rs` sends the code, `activate.rs` checks it and
//! advances the activation one conditional move at a time; `pin_reset.rs` holds the security
//! questions and the PIN reset.

mod activate;
mod pin_reset;
mod start;

use crate::activate::activate;
use crate::start::start;
use signet_shared::domain::keys;
use signet_shared::domain::people::account::Person;
use signet_shared::domain::signatures::subscription::{self, ActivationState, Recovery};
use signet_shared::ports::store::Item;
use signet_shared::{Error, ErrorCode, Result, Services};

signet_shared::routes! {
    POST "/activation/start" => start,
    POST "/activation" => activate,
    GET "/security-questions" => pin_reset::list,
    GET "/account/security-questions" => pin_reset::show,
    PUT "/account/security-questions" => pin_reset::define,
    POST "/subscriptions/{id}/pin/reset" => pin_reset::reset,
}

fn invalid() -> Error {
    Error::new(ErrorCode::ReferenceInvalid).field("reference")
}

/// The person's live recovery of `reference` (as typed: spaces, dashes, case forgiven).
async fn recovery_of(services: &Services, person: &Person, typed: &str) -> Result<(Item, Recovery)> {
    let reference = subscription::normalize_reference(typed).ok_or_else(invalid)?;
    let item = services.store.get(&keys::recovery(&reference)).await?.ok_or_else(invalid)?;
    let recovery: Recovery = item.decode()?;
    // Another person's reference is not one for this person.
    if recovery.person_id != person.id {
        return Err(invalid());
    }
    Ok((item, recovery))
}

fn usable(recovery: &Recovery, now: i64) -> Result<()> {
    let pending = matches!(recovery.activation, ActivationState::Pending);
    if recovery.superseded || (pending && now >= recovery.expires_at) {
        return Err(Error::new(ErrorCode::ReferenceExpired).field("reference"));
    }
    Ok(())
}
