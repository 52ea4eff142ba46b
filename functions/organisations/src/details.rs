//! The organisation's details, for its members.

use crate::actor;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use signet_shared::domain::organisations::registration::Registration;
use signet_shared::domain::organisations::{self, EntityType};
use signet_shared::domain::people::account::Role;
use signet_shared::web::auth::Authenticated;
use signet_shared::web::json;
use signet_shared::{Result, Services};

#[derive(Serialize)]
struct Details {
    space_id: String,
    name: String,
    entity_type: EntityType,
    registration: Registration,
    address: String,
    postal_code: String,
    city: String,
    department: Option<String>,
    phone: String,
    fax: Option<String>,
    registry_checked: bool,
    invoicing_enabled: bool,
    my_roles: Vec<Role>,
}

pub(crate) async fn show(
    State(services): State<Services>,
    Authenticated(claims, _): Authenticated,
) -> Result<Response> {
    let me = actor(&services, &claims).await?;
    let loaded = organisations::load(&services, &me.space_id).await?;
    let o = loaded.organisation;
    Ok(json(
        StatusCode::OK,
        &Details {
            space_id: o.space_id,
            name: loaded.space.name,
            entity_type: o.entity_type,
            registration: o.registration,
            address: o.address,
            postal_code: o.postal_code,
            city: o.city,
            department: o.department,
            phone: o.phone,
            fax: o.fax,
            registry_checked: o.registry_checked,
            invoicing_enabled: loaded.space.billing.is_some_and(|b| b.invoicing_enabled),
            my_roles: me.roles,
        },
    ))
}
