//! Organisations' customer spaces (seed 003): registering one without an account (with the
//! company registry's details for a SIRET), its details, its members and their roles, the
//! legal representative and the billing contact, invitations, and an administrator's reset
//! of a member's second factor (seed 004, "no access to the app").
//!
//! What each role may do is [`signet_shared::domain::organisations::permissions`]; every
//! operation on a space acts for the space of the caller's session, as the member they are.
//!
//! The routes are declared once below; `register.rs` (registration and the registry's
//! auto-fill), `details.rs`, `members.rs`, `invitations.rs`.

mod details;
mod invitations;
mod members;
mod register;

use signet_shared::domain::organisations;
use signet_shared::domain::people::account::{Membership, SpaceKind};
use signet_shared::domain::sessions::access_token::AccessClaims;
use signet_shared::{Error, ErrorCode, Result, Services};

signet_shared::routes! {
    POST "/organisations" => register::register,
    GET "/organisations/registry/{siret}" => register::lookup,
    GET "/organisation" => details::show,
    POST "/organisation/terms" => details::accept_terms,
    GET "/organisation/members" => members::list,
    PUT "/organisation/members/{person_id}/roles" => members::change_roles,
    DELETE "/organisation/members/{person_id}" => members::remove,
    POST "/organisation/members/{person_id}/second-factor/reset" => members::reset_second_factor,
    POST "/organisation/legal-representative" => members::appoint_legal_representative,
    POST "/organisation/billing-contact" => members::appoint_billing_contact,
    GET "/organisation/invitations" => invitations::list,
    POST "/organisation/invitations" => invitations::invite,
    POST "/organisation/invitations/{id}/resend" => invitations::resend,
    DELETE "/organisation/invitations/{id}" => invitations::cancel,
    POST "/invitations/accept" => invitations::accept,
    POST "/invitations/join" => invitations::join,
}

/// The caller's membership of the organisation their session acts for; `not_found` when the
/// session's space is not an organisation or they are no longer a member of it.
pub(crate) async fn actor(services: &Services, claims: &AccessClaims) -> Result<Membership> {
    let membership = organisations::membership(services, &claims.sub, &claims.space).await?;
    match membership {
        Some(m) if m.space_kind == SpaceKind::Organisation => Ok(m),
        _ => Err(Error::new(ErrorCode::NotFound).field("space")),
    }
}
