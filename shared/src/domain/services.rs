//! The ports a function works with, bundled as the state of its router: the domain's view
//! of the world. [`crate::app::wiring`] builds it on one adapter set or the other.

use crate::config::Config;
use crate::ports::payments::PaymentProvider;
use crate::ports::store::Store;
use crate::ports::{CaSigner, Clock, CompanyRegistry, Documents, Keys, Mailer, Random, Sms, Voice};
use std::sync::Arc;

/// Everything a handler may use: configuration and one adapter per port.
#[derive(Clone)]
pub struct Services {
    /// Configuration.
    pub config: Arc<Config>,
    /// The single table.
    pub store: Arc<dyn Store>,
    /// Email.
    pub mailer: Arc<dyn Mailer>,
    /// Text messages.
    pub sms: Arc<dyn Sms>,
    /// Voice calls.
    pub voice: Arc<dyn Voice>,
    /// Secrets at rest.
    pub keys: Arc<dyn Keys>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub random: Arc<dyn Random>,
    /// The certificate authority's signer.
    pub ca: Arc<dyn CaSigner>,
    /// The access-token key ring, cached for this instance.
    pub tokens: Arc<crate::domain::sessions::access_token::TokenKeys>,
    /// Public documents over HTTPS (an identity provider's keys).
    pub documents: Arc<dyn Documents>,
    /// The payment provider (Stripe, or the local hosted page).
    pub payments: Arc<dyn PaymentProvider>,
    /// The company registry (INSEE Sirene, or the local file).
    pub registry: Arc<dyn CompanyRegistry>,
}

impl Services {
    /// Now, in unix seconds.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// A new random id.
    pub fn new_id(&self) -> String {
        crate::domain::crypto::random_id(self.random.as_ref())
    }

    /// A URL under the portal.
    pub fn portal_link(&self, path_and_query: &str) -> String {
        format!("{}{}", self.config.portal_url, path_and_query)
    }

    /// Sends a notice whose failure must not fail a step already stored: logged instead.
    pub async fn send_notice(&self, email: &crate::ports::Email, what: &str) {
        if let Err(e) = self.mailer.send(email).await {
            tracing::warn!(error = %e, notice = what, "notice not sent");
        }
    }

    /// Tells the account's owner that a credential changed (a notice: see [`Self::send_notice`]).
    pub async fn notify_credential_change(
        &self,
        person: &crate::domain::people::account::Person,
        change: crate::domain::messages::CredentialChange,
    ) {
        let email = crate::domain::messages::credential_changed(
            person.email.as_str(),
            change,
            &crate::domain::calendar::utc(self.now()),
            &self.portal_link("/password/forgot"),
            person.locale,
        );
        self.send_notice(&email, "credential changed").await;
    }
}
