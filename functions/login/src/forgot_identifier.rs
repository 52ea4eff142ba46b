//! "Forgot identifier": the organisation identifiers of an address, by email; the answer is
//! the same for addresses with and without an account.

use crate::password_reset::{accepted, person_id_of, EmailBody, NOBODY};
use axum::extract::State;
use axum::response::Response;
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::messages::{self};
use signet_shared::domain::people::account::{self};
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::web::{ApiJson, RequestLocale};
use signet_shared::{Result, Services};

pub(crate) async fn forgot_identifier(
    State(services): State<Services>,
    context: RequestContext,
    RequestLocale(locale): RequestLocale,
    ApiJson(body): ApiJson<EmailBody>,
) -> Result<Response> {
    let email = EmailAddress::parse(&body.email)?;
    let Some(person_id) = person_id_of(&services, &context, "identifier", &email).await? else {
        return Ok(accepted(locale));
    };
    // Known or not, the same calls: one query of a person's partition.
    let found = account::person_with_spaces(services.store.as_ref(), person_id.as_deref().unwrap_or(NOBODY)).await?;
    let message = match found {
        Some(account::PersonWithSpaces { person, memberships, .. }) => {
            let spaces: Vec<String> = memberships.into_iter().map(|m| m.space_name).collect();
            let mut identifiers = vec![person.email.to_string()];
            identifiers.extend(person.identifier.clone());
            messages::identifiers(email.as_str(), &identifiers, &spaces, &services.portal_link("/login"), person.locale)
        }
        None => messages::no_account(email.as_str(), &services.portal_link("/signup"), locale),
    };
    services.mailer.send(&message).await?;
    Ok(accepted(locale))
}
