//! The ports a function works with, bundled as the state of its router.

use crate::config::Config;
use crate::ports::store::Store;
use crate::ports::{Clock, Keys, Mailer, Random, Sms, Voice};
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
    pub ca: Arc<dyn crate::domain::signatures::authority::CaSigner>,
    /// The access-token key ring, cached for this instance.
    pub tokens: Arc<crate::web::auth::TokenKeys>,
    /// The payment provider (Stripe, or the local hosted page).
    pub payments: Arc<dyn crate::ports::payments::PaymentProvider>,
}

/// The payment provider the configuration names: Stripe when its key is set, otherwise
/// (when `local_allowed`: the embedded back end, or the AWS one against an emulator) the
/// local hosted page (sessions in `store`), whose webhook secret is the configured one or,
/// when none is, a random one for this process. A deployed function without Stripe refuses
/// card payments (and says why in its log) rather than send buyers to a page nobody serves.
pub fn payment_provider(
    config: &Config,
    store: Arc<dyn Store>,
    random: &dyn Random,
    local_allowed: bool,
) -> Arc<dyn crate::ports::payments::PaymentProvider> {
    let settings = &config.payments;
    match &settings.stripe {
        Some(stripe) => Arc::new(crate::ports::payments::Stripe::new(stripe, settings.webhook_secret.as_ref())),
        None if !local_allowed => Arc::new(crate::ports::payments::Unconfigured),
        None => {
            let secret = match &settings.webhook_secret {
                Some(s) => s.0.as_bytes().to_vec(),
                None => crate::domain::crypto::hex(&crate::domain::crypto::random_bytes::<32>(random)).into_bytes(),
            };
            Arc::new(crate::ports::payments::LocalPayments::new(store, &settings.page_url, secret))
        }
    }
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
            &crate::domain::messages::utc(self.now()),
            &self.portal_link("/password/forgot"),
            person.locale,
        );
        self.send_notice(&email, "credential changed").await;
    }
}
