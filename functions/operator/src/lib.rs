//! The provider's operators (its staff): find an account or an organisation, enable or
//! disable invoicing for an organisation, invite someone to an organisation (its real
//! administrator, when its registrant was not entitled to it), reset a person's second
//! factor, end a person's sessions. Every action, look-ups included, is audited with the operator's identity; a
//! person acted upon is told.
//!
//! Deployed, the routes sit behind the HTTP API's `AWS_IAM` authorizer: the operator is the
//! IAM principal API Gateway authorised. The local server has no IAM: there, a configured
//! operator token (`SIGNET_OPERATOR_TOKEN`, in the `x-signet-operator-token` header) stands
//! in for it, and without one the operator API refuses everyone (see
//! [`signet_shared::web::auth::Operator`]).
//!
//! The routes are declared once below; `people.rs` and `organisations.rs`.

mod organisations;
mod people;

use signet_shared::domain::audit::{AuditEvent, RequestContext};
use signet_shared::{Result, Services};

signet_shared::routes! {
    POST "/operator/people/search" => people::search,
    POST "/operator/people/{person_id}/second-factor/reset" => people::reset_second_factor,
    POST "/operator/people/{person_id}/sessions/end" => people::end_sessions,
    POST "/operator/organisations/search" => organisations::search,
    PUT "/operator/organisations/{space_id}/invoicing" => organisations::set_invoicing,
    POST "/operator/organisations/{space_id}/invitations" => organisations::invite,
}

/// Records an operator's look-up (what was searched for, not what was found).
pub(crate) async fn audit_lookup(
    services: &Services,
    context: &RequestContext,
    operator: &str,
    what: &str,
    found: usize,
) -> Result<()> {
    let event = AuditEvent::new(
        services.now(),
        context,
        "operator.lookup",
        Some(&format!("operator:{operator}")),
        format!("operator:{operator}"),
        serde_json::json!({"searched": what, "found": found}),
    );
    services.store.write(event.write(&services.new_id())?).await?;
    event.log();
    Ok(())
}
