//! The activation form's first step: the code is sent (or the app's code is expected).

use crate::{recovery_of, usable};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::second_factor::step::{self, Purpose};
use signet_shared::domain::signatures::subscription::ActivationState;
use signet_shared::ports::store::Write;
use signet_shared::web::auth::Authenticated;
use signet_shared::web::{json, ApiJson};
use signet_shared::{Error, ErrorCode, Result, Services};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartBody {
    reference: String,
}

/// The activation form's first step: the code is sent (or the app's code is expected). A
/// new start replaces the previous step and inherits its wrong codes.
pub(crate) async fn start(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(_, live): Authenticated,
    ApiJson(body): ApiJson<StartBody>,
) -> Result<Response> {
    let (item, mut recovery) = recovery_of(&services, &live.person, &body.reference).await?;
    usable(&recovery, services.now())?;
    if matches!(recovery.activation, ActivationState::Done { .. }) && recovery.confirmation_sent {
        // Done: starting again could never succeed.
        return Err(Error::new(ErrorCode::ReferenceUsed).field("reference"));
    }
    let replacement = step::replacing(&services, recovery.step_id.as_deref()).await?;
    recovery.step_id = Some(replacement.id.clone());
    let writes = vec![Write::replace(item.next(&recovery)?)];
    let purpose = Purpose::Activation { reference: recovery.reference.clone() };
    let asked = step::begin_replacement(&services, &context, &live.person, replacement, purpose, writes).await?;
    Ok(json(StatusCode::OK, &asked))
}
