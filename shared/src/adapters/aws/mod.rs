//! The AWS back end on the real aws-sdk clients: DynamoDB (single table, conditional
//! writes, transactions, TTL), SES v2, SNS (SMS), SMS and Voice v2 (voice calls) and KMS
//! (envelope encryption with an encryption context).

use crate::config::Config;
use crate::domain::crypto;
use crate::ports::store::{Condition, Item, Key, Store, StoreError, Write};
use crate::ports::{
    CaSigner, Clock, DeliveryError, Email, EncryptionContext, KeyError, Keys, Mailer, OsRandom, Random, Sealed, Sms,
    Voice,
};
use async_trait::async_trait;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, TransactWriteItem};
use std::collections::HashMap;
use std::sync::Arc;

/// The roots of Amazon Trust Services, which issue the certificates of every AWS service
/// endpoint. Trusting only them, instead of the ~150 system roots, spares each cold start
/// the reading and parsing of the system bundle (about 4 ms here) and narrows who could
/// impersonate an AWS endpoint.
const AWS_ROOT_CAS: &[u8] = include_bytes!("../../../data/aws-root-cas.pem");

fn aws_https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
    let trust = TrustStore::empty().with_native_roots(false).with_pem_certificate(AWS_ROOT_CAS);
    let builder = aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
    match TlsContext::builder().with_trust_store(trust).build() {
        Ok(context) => builder.tls_context(context).build_https(),
        // Never with the shipped roots; the system roots are the safe fallback.
        Err(_) => builder.build_https(),
    }
}

/// The SDK configuration for Lambda: the region and the execution role's credentials from
/// the environment, where Lambda puts them, and the endpoint override of the configuration,
/// if any. Built directly rather than through `aws_config::defaults().load()`, whose
/// default chain reads profile files at start-up, which Lambda never uses. With an
/// endpoint override (an emulator), the system roots are trusted instead of AWS's only.
pub async fn sdk_config(config: &Config) -> SdkConfig {
    let region =
        std::env::var("AWS_REGION").or_else(|_| std::env::var("AWS_DEFAULT_REGION")).ok().map(aws_config::Region::new);
    let credentials = aws_credential_types::provider::SharedCredentialsProvider::new(
        aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
    );
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region)
        .credentials_provider(credentials)
        .time_source(aws_smithy_async::time::SystemTimeSource::new());
    builder.set_sleep_impl(aws_smithy_async::rt::sleep::default_async_sleep());
    builder.set_endpoint_url(config.aws_endpoint_url.clone());
    if config.aws_endpoint_url.is_none() {
        builder.set_http_client(Some(aws_https_client()));
    }
    builder.build()
}

/// The AWS adapters, one per port the domain talks to.
pub struct AwsPorts {
    /// DynamoDB: the single table.
    pub store: Arc<dyn Store>,
    /// SES v2.
    pub mailer: Arc<dyn Mailer>,
    /// SNS text messages.
    pub sms: Arc<dyn Sms>,
    /// AWS End User Messaging SMS and Voice v2 calls.
    pub voice: Arc<dyn Voice>,
    /// KMS envelope encryption and the token-signing keys.
    pub keys: Arc<dyn Keys>,
    /// The certificate authority's KMS signing key.
    pub ca: Arc<dyn CaSigner>,
}

/// The AWS adapters over `sdk`. Each client is built on its first call.
pub fn ports(config: &Config, sdk: &SdkConfig, clock: Arc<dyn Clock>, random: Arc<dyn Random>) -> AwsPorts {
    let voice_sdk = match &config.voice_endpoint_url {
        Some(url) => aws_sdk_pinpointsmsvoicev2::config::Builder::from(sdk).endpoint_url(url).build(),
        None => aws_sdk_pinpointsmsvoicev2::config::Builder::from(sdk).build(),
    };
    let (dynamodb, ses, sns, kms, ca_kms) = (sdk.clone(), sdk.clone(), sdk.clone(), sdk.clone(), sdk.clone());
    AwsPorts {
        store: Arc::new(DynamoStore {
            client: LazyClient::new(move || aws_sdk_dynamodb::Client::new(&dynamodb)),
            table: config.table.clone(),
            clock,
        }),
        mailer: Arc::new(SesMailer {
            client: LazyClient::new(move || aws_sdk_sesv2::Client::new(&ses)),
            from: config.mail_from.clone(),
        }),
        sms: Arc::new(SnsSms { client: LazyClient::new(move || aws_sdk_sns::Client::new(&sns)) }),
        voice: Arc::new(SmsVoiceCalls {
            client: LazyClient::new(move || aws_sdk_pinpointsmsvoicev2::Client::from_conf(voice_sdk.clone())),
            origination: config.voice_origination.clone(),
        }),
        keys: Arc::new(KmsKeys {
            client: LazyClient::new(move || aws_sdk_kms::Client::new(&kms)),
            key_id: config.kms_key_id.clone(),
            random,
        }),
        ca: Arc::new(KmsCaSigner {
            client: LazyClient::new(move || aws_sdk_kms::Client::new(&ca_kms)),
            key_id: config.ca_kms_key_id.clone(),
            spki: tokio::sync::OnceCell::new(),
        }),
    }
}

/// The certificate authority's key in KMS (ECC_NIST_P256, SIGN_VERIFY): `Sign` with the raw
/// message (KMS hashes it with SHA-256), `GetPublicKey` once per instance.
pub struct KmsCaSigner {
    client: LazyClient<aws_sdk_kms::Client>,
    key_id: String,
    spki: tokio::sync::OnceCell<Vec<u8>>,
}

#[async_trait]
impl CaSigner for KmsCaSigner {
    fn key_id(&self) -> String {
        self.key_id.clone()
    }

    async fn public_key(&self) -> Result<Vec<u8>, KeyError> {
        self.spki
            .get_or_try_init(|| async {
                let out = self
                    .client
                    .get()
                    .get_public_key()
                    .key_id(&self.key_id)
                    .send()
                    .await
                    .map_err(|e| KeyError(aws_sdk_kms::error::DisplayErrorContext(e).to_string()))?;
                out.public_key.map(|b| b.into_inner()).ok_or_else(|| KeyError("no public key".into()))
            })
            .await
            .cloned()
    }

    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let out = self
            .client
            .get()
            .sign()
            .key_id(&self.key_id)
            .message(aws_sdk_kms::primitives::Blob::new(message.to_vec()))
            .message_type(aws_sdk_kms::types::MessageType::Raw)
            .signing_algorithm(aws_sdk_kms::types::SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await
            .map_err(|e| KeyError(aws_sdk_kms::error::DisplayErrorContext(e).to_string()))?;
        out.signature.map(|b| b.into_inner()).ok_or_else(|| KeyError("no signature".into()))
    }
}

/// An SDK client built on its first use: a function builds only the clients its request
/// needs, and none during the cold start.
pub struct LazyClient<C> {
    build: Box<dyn Fn() -> C + Send + Sync>,
    client: std::sync::OnceLock<C>,
}

impl<C> LazyClient<C> {
    /// A client that `build` makes when first needed.
    pub fn new(build: impl Fn() -> C + Send + Sync + 'static) -> Self {
        LazyClient { build: Box::new(build), client: std::sync::OnceLock::new() }
    }

    /// The client.
    pub fn get(&self) -> &C {
        self.client.get_or_init(|| (self.build)())
    }
}

/// The single table on DynamoDB. Attributes: `pk`, `sk`, `v` (version), `ttl`, `gsi1pk`,
/// `gsi1sk`, `body` (the entity as JSON). Reads are strongly consistent.
pub struct DynamoStore {
    client: LazyClient<aws_sdk_dynamodb::Client>,
    table: String,
    clock: Arc<dyn Clock>,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn key_attributes(key: &Key) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_owned(), s(&key.pk)), ("sk".to_owned(), s(&key.sk))])
}

fn item_attributes(item: &Item) -> HashMap<String, AttributeValue> {
    let mut attrs = key_attributes(&item.key);
    attrs.insert("v".into(), n(item.version));
    attrs.insert("body".into(), s(&item.body));
    if let Some(at) = item.expires_at {
        attrs.insert("ttl".into(), n(at));
    }
    if let Some(g) = &item.gsi1 {
        attrs.insert("gsi1pk".into(), s(&g.pk));
        attrs.insert("gsi1sk".into(), s(&g.sk));
    }
    attrs
}

fn from_attributes(attrs: &HashMap<String, AttributeValue>) -> Result<Item, StoreError> {
    let text = |name: &str| attrs.get(name).and_then(|v| v.as_s().ok()).cloned();
    let number = |name: &str| attrs.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok());
    let corrupt = || StoreError::Corrupt("item without pk, sk, v or body".into());
    let key = Key::new(text("pk").ok_or_else(corrupt)?, text("sk").ok_or_else(corrupt)?);
    let gsi1 = match (text("gsi1pk"), text("gsi1sk")) {
        (Some(pk), Some(sk)) => Some(Key { pk, sk }),
        _ => None,
    };
    Ok(Item {
        key,
        version: number("v").ok_or_else(corrupt)? as u64,
        expires_at: number("ttl"),
        gsi1,
        body: text("body").ok_or_else(corrupt)?,
    })
}

/// A condition as a DynamoDB expression with its names and values. Expired items count
/// as absent: DynamoDB's TTL sweeper may take days to remove them.
struct Expression {
    text: Option<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

fn expression(condition: Condition, now: i64) -> Expression {
    let mut names = HashMap::from([("#ttl".to_owned(), "ttl".to_owned())]);
    let mut values = HashMap::from([(":now".to_owned(), n(now))]);
    let text = match condition {
        Condition::None => {
            names.clear();
            values.clear();
            None
        }
        Condition::Absent => Some("attribute_not_exists(pk) OR #ttl <= :now".to_owned()),
        Condition::Version(v) => {
            names.insert("#v".into(), "v".into());
            values.insert(":v".into(), n(v));
            Some("#v = :v AND (attribute_not_exists(#ttl) OR #ttl > :now)".to_owned())
        }
    };
    Expression { text, names, values }
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn some_if<T: Clone>(map: &HashMap<String, T>) -> Option<HashMap<String, T>> {
    (!map.is_empty()).then(|| map.clone())
}

/// Adds a condition (expression, names, values) to any DynamoDB request builder.
macro_rules! with_condition {
    ($builder:expr, $condition:expr, $now:expr) => {{
        let e = expression($condition, $now);
        $builder
            .set_condition_expression(e.text)
            .set_expression_attribute_names(some_if(&e.names))
            .set_expression_attribute_values(some_if(&e.values))
    }};
}

/// A failed single write: a failed condition, or the table is unavailable.
fn write_error<E, R>(err: aws_sdk_dynamodb::error::SdkError<E, R>) -> StoreError
where
    E: ConditionalCheck + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if err.as_service_error().is_some_and(ConditionalCheck::is_condition_failed) {
        StoreError::ConditionFailed(None)
    } else {
        unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(err))
    }
}

impl DynamoStore {
    fn transact_item(&self, write: &Write, now: i64) -> Result<TransactWriteItem, StoreError> {
        let built = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Corrupt(e.to_string());
        Ok(match write {
            Write::Put { item, condition } => {
                let put = with_condition!(
                    Put::builder().table_name(&self.table).set_item(Some(item_attributes(item))),
                    *condition,
                    now
                );
                TransactWriteItem::builder().put(put.build().map_err(built)?).build()
            }
            Write::Delete { key, condition } => {
                let delete = with_condition!(
                    Delete::builder().table_name(&self.table).set_key(Some(key_attributes(key))),
                    *condition,
                    now
                );
                TransactWriteItem::builder().delete(delete.build().map_err(built)?).build()
            }
            Write::Check { key, condition } => {
                let check = with_condition!(
                    ConditionCheck::builder().table_name(&self.table).set_key(Some(key_attributes(key))),
                    *condition,
                    now
                );
                // A check needs an expression: without a condition it asserts nothing.
                let check = if *condition == Condition::None {
                    check.condition_expression("attribute_exists(pk) OR attribute_not_exists(pk)")
                } else {
                    check
                };
                TransactWriteItem::builder().condition_check(check.build().map_err(built)?).build()
            }
        })
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get()
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
        match out.item {
            Some(attrs) => Ok(Some(from_attributes(&attrs)?).filter(|i| !i.is_expired(self.clock.now()))),
            None => Ok(None),
        }
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        // DynamoDB refuses a batch that names one key twice: each is asked once.
        let mut distinct: Vec<&Key> = keys.iter().collect();
        distinct.sort();
        distinct.dedup();
        if distinct.len() > 100 {
            return Err(unavailable("a batch of more than 100 keys"));
        }
        let mut found: HashMap<Key, Item> = HashMap::new();
        let mut pending = distinct.iter().map(|k| key_attributes(k)).collect::<Vec<_>>();
        // Keys the service left unprocessed (throttling) are asked again, a few times.
        for _ in 0..5 {
            if pending.is_empty() {
                break;
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let out = self
                .client
                .get()
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
            for attrs in out.responses.as_ref().and_then(|r| r.get(&self.table)).into_iter().flatten() {
                let item = from_attributes(attrs)?;
                found.insert(item.key.clone(), item);
            }
            pending = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).map(|k| k.keys).unwrap_or_default();
        }
        if !pending.is_empty() {
            return Err(unavailable("BatchGetItem left keys unprocessed"));
        }
        let now = self.clock.now();
        Ok(keys.iter().map(|k| found.get(k).cloned().filter(|i| !i.is_expired(now))).collect())
    }

    async fn write(&self, write: Write) -> Result<(), StoreError> {
        let now = self.clock.now();
        match &write {
            Write::Put { item, condition } => {
                let put = self.client.get().put_item().table_name(&self.table).set_item(Some(item_attributes(item)));
                with_condition!(put, *condition, now).send().await.map(|_| ()).map_err(write_error)
            }
            Write::Delete { key, condition } => {
                let delete = self.client.get().delete_item().table_name(&self.table).set_key(Some(key_attributes(key)));
                with_condition!(delete, *condition, now).send().await.map(|_| ()).map_err(write_error)
            }
            Write::Check { .. } => self.transact(vec![write]).await,
        }
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let now = self.clock.now();
        let items = writes.iter().map(|w| self.transact_item(w, now)).collect::<Result<Vec<_>, _>>()?;
        // The token makes the SDK's own retries of this call idempotent: a retry of a
        // transaction that already committed succeeds instead of failing its conditions.
        let token = crypto::random_id(&OsRandom);
        match self
            .client
            .get()
            .transact_write_items()
            .set_transact_items(Some(items))
            .client_request_token(token)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => {
                use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError as Failed;
                if let Some(Failed::TransactionCanceledException(cancel)) = err.as_service_error() {
                    let reasons = cancel.cancellation_reasons();
                    let failed = reasons.iter().position(|r| r.code() == Some("ConditionalCheckFailed"));
                    let conflict = reasons.iter().any(|r| r.code() == Some("TransactionConflict"));
                    if failed.is_some() || conflict {
                        // A concurrent transaction on the same items is a lost race too.
                        return Err(StoreError::ConditionFailed(failed.filter(|_| writes.len() > 1)));
                    }
                }
                Err(unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(err)))
            }
        }
    }

    async fn query(&self, pk: &str, sk_prefix: &str, limit: usize) -> Result<Vec<Item>, StoreError> {
        self.query_on(None, "pk", "sk", pk, sk_prefix, limit).await
    }

    async fn query_gsi1(&self, gsi1pk: &str, sk_prefix: &str, limit: usize) -> Result<Vec<Item>, StoreError> {
        self.query_on(Some("gsi1"), "gsi1pk", "gsi1sk", gsi1pk, sk_prefix, limit).await
    }
}

impl DynamoStore {
    async fn query_on(
        &self,
        index: Option<&str>,
        pk_name: &str,
        sk_name: &str,
        pk: &str,
        sk_prefix: &str,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let now = self.clock.now();
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let request = self
                .client
                .get()
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_owned))
                .consistent_read(index.is_none())
                .expression_attribute_names("#pk", pk_name)
                .expression_attribute_values(":pk", s(pk));
            // An empty prefix is the whole partition (DynamoDB refuses an empty begins_with).
            let request = if sk_prefix.is_empty() {
                request.key_condition_expression("#pk = :pk")
            } else {
                request
                    .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                    .expression_attribute_names("#sk", sk_name)
                    .expression_attribute_values(":prefix", s(sk_prefix))
            };
            let page = request
                .set_exclusive_start_key(start)
                .limit((limit - out.len()).min(1000) as i32)
                .send()
                .await
                .map_err(|e| unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
            for attrs in page.items() {
                let item = from_attributes(attrs)?;
                if !item.is_expired(now) {
                    out.push(item);
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() || out.len() >= limit {
                return Ok(out);
            }
        }
    }
}

trait ConditionalCheck {
    fn is_condition_failed(&self) -> bool;
}

impl ConditionalCheck for aws_sdk_dynamodb::operation::put_item::PutItemError {
    fn is_condition_failed(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

impl ConditionalCheck for aws_sdk_dynamodb::operation::delete_item::DeleteItemError {
    fn is_condition_failed(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

/// Email through SES v2 (simple content, text body).
pub struct SesMailer {
    client: LazyClient<aws_sdk_sesv2::Client>,
    from: String,
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &Email) -> Result<(), DeliveryError> {
        use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
        let content = |text: &str| {
            Content::builder().data(text).charset("UTF-8").build().map_err(|e| DeliveryError(e.to_string()))
        };
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(Body::builder().text(content(&email.body)?).build())
            .build();
        self.client
            .get()
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| DeliveryError(aws_sdk_sesv2::error::DisplayErrorContext(e).to_string()))
    }
}

/// Text messages through SNS, as transactional SMS.
pub struct SnsSms {
    client: LazyClient<aws_sdk_sns::Client>,
}

#[async_trait]
impl Sms for SnsSms {
    async fn send(&self, to: &str, text: &str) -> Result<(), DeliveryError> {
        use aws_sdk_sns::types::MessageAttributeValue;
        let transactional = MessageAttributeValue::builder()
            .data_type("String")
            .string_value("Transactional")
            .build()
            .map_err(|e| DeliveryError(e.to_string()))?;
        self.client
            .get()
            .publish()
            .phone_number(to)
            .message(text)
            .message_attributes("AWS.SNS.SMS.SMSType", transactional)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| DeliveryError(aws_sdk_sns::error::DisplayErrorContext(e).to_string()))
    }
}

/// Voice calls through AWS End User Messaging SMS and Voice v2 (`SendVoiceMessage`).
pub struct SmsVoiceCalls {
    client: LazyClient<aws_sdk_pinpointsmsvoicev2::Client>,
    origination: Option<String>,
}

#[async_trait]
impl Voice for SmsVoiceCalls {
    async fn call(&self, to: &str, text: &str, language: &str) -> Result<(), DeliveryError> {
        use aws_sdk_pinpointsmsvoicev2::types::{VoiceId, VoiceMessageBodyTextType};
        let origination = self.origination.as_deref().ok_or_else(|| {
            DeliveryError("no voice origination identity configured (SIGNET_VOICE_ORIGINATION)".into())
        })?;
        let voice = if language.starts_with("fr") { VoiceId::Chantal } else { VoiceId::Joanna };
        self.client
            .get()
            .send_voice_message()
            .destination_phone_number(to)
            .origination_identity(origination)
            .message_body(text)
            .message_body_text_type(VoiceMessageBodyTextType::Text)
            .voice_id(voice)
            .time_to_live(600)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| DeliveryError(aws_sdk_pinpointsmsvoicev2::error::DisplayErrorContext(e).to_string()))
    }
}

/// Envelope encryption under a KMS key: one `GenerateDataKey` per secret sealed, one
/// `Decrypt` per secret opened, both bound to the encryption context.
pub struct KmsKeys {
    client: LazyClient<aws_sdk_kms::Client>,
    key_id: String,
    random: Arc<dyn Random>,
}

#[async_trait]
impl Keys for KmsKeys {
    async fn seal(&self, plaintext: &[u8], context: &EncryptionContext) -> Result<Sealed, KeyError> {
        let out = self
            .client
            .get()
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
            .set_encryption_context(Some(context.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
            .send()
            .await
            .map_err(|e| KeyError(aws_sdk_kms::error::DisplayErrorContext(e).to_string()))?;
        let data_key = out.plaintext.ok_or_else(|| KeyError("no plaintext data key".into()))?;
        let wrapped = out.ciphertext_blob.ok_or_else(|| KeyError("no wrapped data key".into()))?;
        let (nonce, ciphertext) =
            crypto::aes_gcm_seal(data_key.as_ref(), plaintext, &crypto::context_aad(context), self.random.as_ref())
                .map_err(KeyError)?;
        Ok(Sealed { wrapped_key: wrapped.into_inner(), nonce, ciphertext })
    }

    async fn open(&self, sealed: &Sealed, context: &EncryptionContext) -> Result<Vec<u8>, KeyError> {
        let out = self
            .client
            .get()
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(sealed.wrapped_key.clone()))
            .set_encryption_context(Some(context.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
            .send()
            .await
            .map_err(|e| KeyError(aws_sdk_kms::error::DisplayErrorContext(e).to_string()))?;
        let data_key = out.plaintext.ok_or_else(|| KeyError("no plaintext data key".into()))?;
        crypto::aes_gcm_open(data_key.as_ref(), &sealed.nonce, &sealed.ciphertext, &crypto::context_aad(context))
            .map_err(KeyError)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shipped_aws_roots_are_the_five_amazon_trust_services_roots() {
        let pem = std::str::from_utf8(super::AWS_ROOT_CAS).unwrap();
        assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 5);
        let trust = aws_smithy_http_client::tls::TrustStore::empty()
            .with_native_roots(false)
            .with_pem_certificate(super::AWS_ROOT_CAS);
        assert!(aws_smithy_http_client::tls::TlsContext::builder().with_trust_store(trust).build().is_ok());
    }

    #[tokio::test]
    async fn lambda_configuration_reads_region_and_endpoint() {
        let mut config = crate::config::Config::defaults();
        config.aws_endpoint_url = Some("http://127.0.0.1:1".into());
        let sdk = super::sdk_config(&config).await;
        assert_eq!(sdk.endpoint_url(), Some("http://127.0.0.1:1"));
        assert!(sdk.credentials_provider().is_some());
    }
}
