//! Login with a Google identity: a verified ID token of an address Google is authoritative
//! for, then the second factor.

use crate::attempts::count_source_failure;
use crate::login::{device, second_factor};
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::people::account::{self, Person};
use signet_shared::domain::sessions::google;
use signet_shared::ports::store::Write;
use signet_shared::web::ApiJson;
use signet_shared::{Error, ErrorCode, Result, Services};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GoogleBody {
    id_token: String,
    #[serde(default)]
    device: Option<String>,
}

/// Sign in with Google: the ID token names a verified email; the person with that login
/// email then proves their second factor as after a password.
pub(crate) async fn google(
    State(services): State<Services>,
    context: RequestContext,
    ApiJson(body): ApiJson<GoogleBody>,
) -> Result<Response> {
    let settings = services.config.google.as_ref().ok_or_else(|| Error::new(ErrorCode::NotFound))?;
    let identity = match google::verify(services.documents.as_ref(), settings, &body.id_token, services.now()).await {
        Ok(identity) => identity,
        Err(e) if e.code == ErrorCode::ExternalTokenInvalid => {
            count_source_failure(&services, &context).await?;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let store = services.store.as_ref();
    let person = match store.get(&keys::email_guard(&identity.email)).await? {
        Some(guard) => store.get(&keys::person(&guard.decode::<account::EmailGuard>()?.person_id)).await?,
        None => None,
    };
    // A Google account without a Signet account, or another Google account than the one
    // linked: the same answer as a refused token.
    let decoded = person.as_ref().map(|i| i.decode::<Person>()).transpose()?;
    let (Some(item), Some(mut person)) = (person, decoded) else {
        count_source_failure(&services, &context).await?;
        return Err(Error::new(ErrorCode::ExternalTokenInvalid));
    };
    // A Google identity is no password guess: the password's throttle does not hold it back.
    if person.google_subject.as_ref().is_some_and(|linked| *linked != identity.subject) {
        count_source_failure(&services, &context).await?;
        return Err(Error::new(ErrorCode::ExternalTokenInvalid));
    }
    // The first Google sign-in links that Google account, in the step's transaction.
    let mut writes = Vec::new();
    if person.google_subject.is_none() {
        person.google_subject = Some(identity.subject.clone());
        writes.push(Write::replace(item.next(&person)?));
    }
    second_factor(&services, &context, &person, vec!["google".into()], device(body.device), writes).await
}
