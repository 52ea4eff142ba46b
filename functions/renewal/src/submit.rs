//! A renewal submitted with the terms of sale, or cancelled: the handlers of the moves the
//! domain's renewal makes.

use crate::views::view;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::billing::renewal::Submitted;
use signet_shared::domain::billing::renewal::{self, TermsAcceptance};
use signet_shared::web::auth::Authenticated;
use signet_shared::web::{json, ApiJson};
use signet_shared::{Error, ErrorCode, Result, Services};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubmitBody {
    accept_terms: bool,
    terms_version: String,
}

/// Submits a renewal with the terms of sale accepted. Card: answers the hosted payment page
/// to go to (a retry answers the same one). Organisation: the invoice is issued and the
/// term extended at once. A renewal already fulfilled answers as it stands.
pub(crate) async fn submit(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(_, live): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SubmitBody>,
) -> Result<Response> {
    let current_version = &services.config.payments.terms_version;
    if !body.accept_terms || &body.terms_version != current_version {
        return Err(Error::new(ErrorCode::TermsNotAccepted).field(if body.accept_terms {
            "terms_version"
        } else {
            "accept_terms"
        }));
    }
    let terms = TermsAcceptance {
        version: current_version.clone(),
        accepted_at: services.now(),
        source_ip: context.source_ip.clone(),
    };
    match renewal::submit(&services, &context, &live.person, &id, terms).await? {
        Submitted::Settled(done) => {
            let status = if done.now { StatusCode::CREATED } else { StatusCode::OK };
            let answer = json(status, &view(&services, &done.renewal));
            renewal::send_notices(&services, done, Some(&live.person)).await?;
            Ok(answer)
        }
        Submitted::Open(r) => Ok(json(StatusCode::OK, &view(&services, &r))),
    }
}

/// Gives up a renewal not yet paid: its checkout session is ended at the provider (so it
/// takes no payment), the renewal abandoned and the subscription free for another renewal at
/// once. A session paid first is not undone: the answer says so and the webhook fulfils it.
pub(crate) async fn cancel(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(claims, _): Authenticated,
    Path(id): Path<String>,
) -> Result<Response> {
    let r = renewal::cancel(&services, &context, &claims.sub, &id).await?;
    Ok(json(StatusCode::OK, &view(&services, &r)))
}
