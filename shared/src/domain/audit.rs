//! Audit events: who did what, when, from where. Append-only items (written in the same
//! transaction as the change they record, when there is one) and a JSON log line.

use crate::domain::keys;
use crate::ports::store::{Item, StoreError, Write};
use serde::{Deserialize, Serialize};

/// Where a request came from and which request it is: set by the entry point (the
/// Lambda event's request context, or the local server's socket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// Source address.
    pub source_ip: String,
    /// Request id (API Gateway's, or generated).
    pub request_id: String,
}

/// One security-relevant event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Unix seconds.
    pub at: i64,
    /// What happened (`signup.completed`, `signup.code_failed`…).
    pub action: String,
    /// The person acting, when known.
    pub actor: Option<String>,
    /// What it happened to (a person id, a sign-up id…).
    pub subject: String,
    /// Source address of the request.
    pub source_ip: String,
    /// Request id, to join with logs.
    pub request_id: String,
    /// A few non-secret facts (never a code, password, token or phone number).
    pub detail: serde_json::Value,
}

impl AuditEvent {
    /// An event of the request `context`, at `at`.
    pub fn new(
        at: i64,
        context: &RequestContext,
        action: &str,
        actor: Option<&str>,
        subject: String,
        detail: serde_json::Value,
    ) -> Self {
        AuditEvent {
            at,
            action: action.to_owned(),
            actor: actor.map(str::to_owned),
            subject,
            source_ip: context.source_ip.clone(),
            request_id: context.request_id.clone(),
            detail,
        }
    }

    /// The append-only write of this event (`event_id` makes the sort key unique). Put it
    /// in the transaction of the change it records, then call [`AuditEvent::log`] once
    /// that transaction committed.
    pub fn write(&self, event_id: &str) -> Result<Write, StoreError> {
        let key = keys::audit_event(&self.subject, self.at, event_id);
        Ok(Write::create(Item::new(key, self)?))
    }

    /// The JSON log line of this event, for operators (after the write committed).
    pub fn log(&self) {
        tracing::info!(
            audit = true,
            action = %self.action,
            actor = self.actor.as_deref().unwrap_or("-"),
            subject = %self.subject,
            source_ip = %self.source_ip,
            request_id = %self.request_id,
            "audit"
        );
    }
}

/// An event about a person (subject `person:<id>`, actor the person), at the services' now.
pub fn person_event(
    services: &crate::domain::services::Services,
    context: &RequestContext,
    action: &str,
    person_id: &str,
    detail: serde_json::Value,
) -> AuditEvent {
    AuditEvent::new(services.now(), context, action, Some(person_id), format!("person:{person_id}"), detail)
}
