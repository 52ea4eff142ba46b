//! Renew a subscription (seed 000, step 3): the payment modes open to me, a draft invoice
//! with the taxes of the buyer's jurisdiction, the terms of sale accepted and submitted;
//! by card on the payment provider's hosted page (its signed webhook confirms), or billed
//! to an organisation I am a member of. Then invoices and receipts, as JSON and PDF.
//!
//! The routes are declared once below; the renewal's state machine is the domain's
//! (`signet_shared::domain::billing::renewal`): these files are its HTTP face, one per
//! operation (`options.rs`, `draft.rs`, `submit.rs`, `webhook.rs`, `invoices.rs`) with
//! `views.rs` and `pdf.rs`.

mod draft;
mod invoices;
mod options;
mod pdf;
mod submit;
mod views;
mod webhook;

use crate::draft::{draft, show};
use crate::invoices::{invoice_json, invoice_pdf, receipt_json, receipt_pdf, space_invoices};
use crate::options::options;
use crate::submit::{cancel, submit};
use crate::views::BillingView;
use crate::webhook::webhook;
use signet_shared::domain::billing::catalogue::Catalogue;
use signet_shared::domain::billing::renewal::{self};
use signet_shared::domain::keys;
use signet_shared::domain::organisations;
use signet_shared::domain::people::account::{self, BillingProfile, CustomerSpace, SpaceKind};
use signet_shared::domain::signatures::subscription::Subscription;
use signet_shared::{Error, ErrorCode, Result, Services};

signet_shared::routes! {
    GET "/subscriptions/{id}/renewal" => options,
    POST "/subscriptions/{id}/renewals" => draft,
    GET "/renewals/{id}" => show,
    POST "/renewals/{id}/submit" => submit,
    POST "/renewals/{id}/cancel" => cancel,
    POST "/payments/webhook" => webhook,
    GET "/invoices" => space_invoices,
    GET "/invoices/{number}" => invoice_json,
    GET "/invoices/{number}/pdf" => invoice_pdf,
    GET "/invoices/{number}/receipt" => receipt_json,
    GET "/invoices/{number}/receipt/pdf" => receipt_pdf,
}

/// How long an unsubmitted draft is kept.
const DRAFT_TTL: i64 = 86400;

fn shipped_catalogue() -> Result<&'static Catalogue> {
    Catalogue::shipped().map_err(Error::internal)
}

/// The subscription `id`, if I hold it in the space I act for (otherwise it does not exist
/// for me), and whether a renewal's checkout holds it (read together).
async fn my_subscription(
    services: &Services,
    person_id: &str,
    space_id: &str,
    id: &str,
) -> Result<(Subscription, bool)> {
    let not_found = || Error::new(ErrorCode::NotFound).field("id");
    if !signet_shared::domain::crypto::is_random_id(id) {
        return Err(not_found());
    }
    let found = renewal::subscription_and_lock(services, id).await?;
    let (_, sub) = found.subscription.ok_or_else(not_found)?;
    if sub.space_id != space_id {
        return Err(not_found());
    }
    // An organisation's agent acts for its subscriptions held by others (one more read).
    if sub.holder_id != person_id && !organisations::acts_for_subscriptions(services, person_id, space_id).await? {
        return Err(not_found());
    }
    Ok((sub, found.lock.is_some()))
}

async fn space(services: &Services, id: &str) -> Result<Option<CustomerSpace>> {
    Ok(services.store.get(&keys::space(id)).await?.map(|i| i.decode()).transpose()?)
}

/// The organisations a person may bill: member of, enabled for invoicing, with a billing
/// contact and the current terms accepted.
async fn billable_organisations(
    services: &Services,
    memberships: &[account::Membership],
) -> Result<Vec<CustomerSpace>> {
    let mut out = Vec::new();
    for m in memberships.iter().filter(|m| m.space_kind == SpaceKind::Organisation) {
        if let Some(org) = space(services, &m.space_id).await? {
            if org.billing.as_ref().is_some_and(|b| b.invoicing_open(&services.config.payments.terms_version)) {
                out.push(org);
            }
        }
    }
    Ok(out)
}

impl From<&BillingProfile> for BillingView {
    fn from(b: &BillingProfile) -> Self {
        BillingView {
            name: Some(b.name.clone()),
            country: b.country.clone(),
            region: b.region.clone(),
            vat_number: b.vat_number.clone(),
        }
    }
}
