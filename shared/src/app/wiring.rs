//! The one place that picks the adapters and builds [`Services`] on them: the AWS set (the
//! Lambdas, and the scenarios against moto), or the embedded set (the local server and the
//! scenarios on a database file), each with the payment provider the configuration names.

#[cfg(feature = "aws")]
use crate::adapters::aws;
use crate::adapters::company_registry;
#[cfg(feature = "embedded")]
use crate::adapters::embedded::{self, database_file::DiskFaults, EmbeddedStore, Outbox};
use crate::adapters::http_client::HttpsDocuments;
use crate::adapters::local_payments::LocalPayments;
use crate::adapters::stripe::{Stripe, Unconfigured};
use crate::config::Config;
use crate::domain::crypto;
use crate::domain::services::Services;
use crate::ports::payments::PaymentProvider;
use crate::ports::store::Store;
use crate::ports::{Clock, OsRandom, Random, SystemClock};
#[cfg(feature = "embedded")]
use std::path::Path;
use std::sync::Arc;

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
) -> Arc<dyn PaymentProvider> {
    let settings = &config.payments;
    match &settings.stripe {
        Some(stripe) => Arc::new(Stripe::new(stripe, settings.webhook_secret.as_ref())),
        None if !local_allowed => Arc::new(Unconfigured),
        None => {
            let secret = match &settings.webhook_secret {
                Some(s) => s.0.as_bytes().to_vec(),
                None => crypto::hex(&crypto::random_bytes::<32>(random)).into_bytes(),
            };
            Arc::new(LocalPayments::new(store, &settings.page_url, secret))
        }
    }
}

/// Services on the AWS adapters.
#[cfg(feature = "aws")]
pub fn aws(config: Config, sdk: &aws_config::SdkConfig) -> Services {
    aws_with_clock(config, sdk, Arc::new(SystemClock))
}

/// Services on the AWS adapters with a given clock (tests move time).
#[cfg(feature = "aws")]
pub fn aws_with_clock(config: Config, sdk: &aws_config::SdkConfig, clock: Arc<dyn Clock>) -> Services {
    let random: Arc<dyn Random> = Arc::new(OsRandom);
    let ports = aws::ports(&config, sdk, clock.clone(), random.clone());
    let payments = payment_provider(&config, ports.store.clone(), random.as_ref(), config.aws_endpoint_url.is_some());
    let registry = company_registry::configured(&config);
    Services {
        config: Arc::new(config),
        store: ports.store,
        mailer: ports.mailer,
        sms: ports.sms,
        voice: ports.voice,
        keys: ports.keys,
        ca: ports.ca,
        payments,
        clock,
        random,
        documents: Arc::new(HttpsDocuments),
        tokens: Arc::default(),
        registry,
    }
}

/// The embedded back end in a data directory: the services, and what the local server
/// reaches past them (the outbox it shows, the store it sweeps and watches).
#[cfg(feature = "embedded")]
pub struct Embedded {
    /// The services on the embedded adapters.
    pub services: Services,
    /// The outbox, for the local server's pages and for tests.
    pub outbox: Outbox,
    /// The store, for maintenance (TTL sweep) and its health.
    pub store: EmbeddedStore,
}

/// Opens the embedded back end with the system clock.
#[cfg(feature = "embedded")]
pub fn embedded(config: Config, data_dir: &Path) -> Result<Embedded, String> {
    embedded_with_clock(config, data_dir, Arc::new(SystemClock))
}

/// Opens the embedded back end with a given clock (tests move time).
#[cfg(feature = "embedded")]
pub fn embedded_with_clock(config: Config, data_dir: &Path, clock: Arc<dyn Clock>) -> Result<Embedded, String> {
    embedded_with_faults(config, data_dir, clock, None)
}

/// Opens the embedded back end with a given clock and, for the scenarios of a full disk,
/// faults injected into the database file's storage.
#[cfg(feature = "embedded")]
pub fn embedded_with_faults(
    config: Config,
    data_dir: &Path,
    clock: Arc<dyn Clock>,
    faults: Option<Arc<DiskFaults>>,
) -> Result<Embedded, String> {
    let random: Arc<dyn Random> = Arc::new(OsRandom);
    let ports = embedded::open(data_dir, clock.clone(), random.clone(), faults)?;
    let store: Arc<dyn Store> = Arc::new(ports.store.clone());
    let payments = payment_provider(&config, store.clone(), random.as_ref(), true);
    let outbox = ports.outbox;
    let registry = company_registry::configured(&config);
    let services = Services {
        config: Arc::new(config),
        payments,
        store,
        mailer: Arc::new(outbox.clone()),
        sms: Arc::new(outbox.clone()),
        voice: Arc::new(outbox.clone()),
        keys: Arc::new(ports.keys),
        ca: Arc::new(ports.ca),
        clock,
        random,
        documents: Arc::new(HttpsDocuments),
        tokens: Arc::default(),
        registry,
    };
    Ok(Embedded { services, outbox, store: ports.store })
}
