//! The harness of Signet's end-to-end scenarios. A scenario is an `async fn(World)`,
//! written once; [`scenarios!`] runs it on the embedded back end (a fresh database
//! directory) and on the AWS back end (the real aws-sdk clients against moto server, with
//! a fresh table and KMS key; voice calls against a local SMS and Voice v2 recorder, since
//! moto has no such service).
//!
//! The AWS back end needs `SIGNET_TEST_MOTO_URL` (the test command starts moto and sets
//! it). Without it, the AWS scenarios fail: they are never silently skipped.
//!
//! The portal's browser journeys are beside it, in `tests/browser/` (Node.js, Playwright
//! driving chromium against the local server); the test command runs them last.

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use serde_json::Value;
use signet_shared::adapters::embedded;
use signet_shared::ports::store::{Item, Key, Store, StoreError, Write};
use signet_shared::ports::{
    Clock, DeliveryError, Email, EncryptionContext, KeyError, Keys, Mailer, ManualClock, Sealed, Sms, Voice,
};
use signet_shared::{Config, Services};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

pub mod organisations;

/// Runs each scenario on both back ends: `embedded::<name>` and `aws::<name>`.
#[macro_export]
macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::World::embedded().await).await
                }
            )*
        }
        mod aws {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::World::aws().await).await
                }
            )*
        }
    };
}

/// A message the portal sent, as read back from the back end's outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// `email`, `sms` or `voice`.
    pub channel: String,
    /// Recipient.
    pub to: String,
    /// Subject (emails).
    pub subject: String,
    /// Body.
    pub body: String,
}

impl Sent {
    /// The first `token=` value in the body.
    pub fn link_token(&self) -> String {
        let start = self.body.find("token=").expect("no link in message") + 6;
        self.body[start..].split_whitespace().next().unwrap().to_owned()
    }

    /// The six-digit code in the body (a voice script says it digit by digit).
    pub fn code(&self) -> String {
        if self.channel == "voice" {
            return self.body.chars().filter(char::is_ascii_digit).take(6).collect();
        }
        let word = self
            .body
            .split_whitespace()
            .map(|w| w.trim_end_matches('.'))
            .find(|w| w.len() == 6 && w.chars().all(|c| c.is_ascii_digit()));
        word.expect("no code in message").to_owned()
    }
}

/// Failures to inject into the delivery and key services, to check that state stays
/// consistent and the step retryable.
#[derive(Default)]
pub struct Faults {
    /// Fail the next N emails.
    pub mail: AtomicUsize,
    /// Fail the next N text messages.
    pub sms: AtomicUsize,
    /// Fail the next N key operations.
    pub keys: AtomicUsize,
    /// What was called.
    pub calls: Arc<Calls>,
}

/// Calls made to the store and to the other AWS-backed ports, to count what each step costs.
#[derive(Default, Debug)]
pub struct Calls {
    /// Store reads (GetItem, BatchGetItem, Query), one per call.
    pub store_reads: AtomicUsize,
    /// Store writes (PutItem, DeleteItem, TransactWriteItems), one per call.
    pub store_writes: AtomicUsize,
    /// Key service calls (GenerateDataKey, Decrypt).
    pub keys: AtomicUsize,
    /// Messages sent (SES, SNS, voice).
    pub messages: AtomicUsize,
}

impl Calls {
    /// (store reads, store writes, key calls, messages) since the last reset, and resets.
    pub fn take(&self) -> (usize, usize, usize, usize) {
        (
            self.store_reads.swap(0, Ordering::SeqCst),
            self.store_writes.swap(0, Ordering::SeqCst),
            self.keys.swap(0, Ordering::SeqCst),
            self.messages.swap(0, Ordering::SeqCst),
        )
    }
}

struct CountingStore(Arc<dyn Store>, Arc<Calls>);
#[async_trait]
impl Store for CountingStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.1.store_reads.fetch_add(1, Ordering::SeqCst);
        self.0.get(key).await
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.1.store_reads.fetch_add(1, Ordering::SeqCst);
        self.0.get_many(keys).await
    }
    async fn write(&self, write: Write) -> Result<(), StoreError> {
        self.1.store_writes.fetch_add(1, Ordering::SeqCst);
        self.0.write(write).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.1.store_writes.fetch_add(1, Ordering::SeqCst);
        self.0.transact(writes).await
    }
    async fn query(&self, pk: &str, sk_prefix: &str, limit: usize) -> Result<Vec<Item>, StoreError> {
        self.1.store_reads.fetch_add(1, Ordering::SeqCst);
        self.0.query(pk, sk_prefix, limit).await
    }
    async fn query_gsi1(&self, gsi1pk: &str, sk_prefix: &str, limit: usize) -> Result<Vec<Item>, StoreError> {
        self.1.store_reads.fetch_add(1, Ordering::SeqCst);
        self.0.query_gsi1(gsi1pk, sk_prefix, limit).await
    }
}

struct CountingVoice(Arc<dyn Voice>, Arc<Calls>);
#[async_trait]
impl Voice for CountingVoice {
    async fn call(&self, to: &str, text: &str, language: &str) -> Result<(), DeliveryError> {
        self.1.messages.fetch_add(1, Ordering::SeqCst);
        self.0.call(to, text, language).await
    }
}

fn take(counter: &AtomicUsize) -> bool {
    counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
}

struct FaultyMailer(Arc<dyn Mailer>, Arc<Faults>);
#[async_trait]
impl Mailer for FaultyMailer {
    async fn send(&self, email: &Email) -> Result<(), DeliveryError> {
        self.1.calls.messages.fetch_add(1, Ordering::SeqCst);
        if take(&self.1.mail) {
            return Err(DeliveryError("injected mail failure".into()));
        }
        self.0.send(email).await
    }
}

struct FaultySms(Arc<dyn Sms>, Arc<Faults>);
#[async_trait]
impl Sms for FaultySms {
    async fn send(&self, to: &str, text: &str) -> Result<(), DeliveryError> {
        self.1.calls.messages.fetch_add(1, Ordering::SeqCst);
        if take(&self.1.sms) {
            return Err(DeliveryError("injected SMS failure".into()));
        }
        self.0.send(to, text).await
    }
}

struct FaultyKeys(Arc<dyn Keys>, Arc<Faults>);
#[async_trait]
impl Keys for FaultyKeys {
    async fn seal(&self, plaintext: &[u8], context: &EncryptionContext) -> Result<Sealed, KeyError> {
        self.1.calls.keys.fetch_add(1, Ordering::SeqCst);
        if take(&self.1.keys) {
            return Err(KeyError("injected key service failure".into()));
        }
        self.0.seal(plaintext, context).await
    }
    async fn open(&self, sealed: &Sealed, context: &EncryptionContext) -> Result<Vec<u8>, KeyError> {
        self.1.calls.keys.fetch_add(1, Ordering::SeqCst);
        if take(&self.1.keys) {
            return Err(KeyError("injected key service failure".into()));
        }
        self.0.open(sealed, context).await
    }
}

enum Outbox {
    Embedded(embedded::Outbox),
    /// What moto recorded, less the emails and text messages it held when the scenario began
    /// (moto keeps them across test runs).
    /// Each voice call is recorded with the number of text messages moto held when it was
    /// placed, so that calls and texts to one number read back in the order they were sent.
    Aws {
        moto: String,
        voice: Arc<Mutex<Vec<(usize, Sent)>>>,
        emails_before: usize,
        sms_before: usize,
    },
}

/// One scenario's world: the app on one back end, its clock, its outbox.
pub struct World {
    /// The back end's name (`embedded` or `aws`).
    pub backend: &'static str,
    /// The application, as the local server and Lambda serve it.
    pub app: Router,
    /// The services behind it.
    pub services: Services,
    /// The clock every adapter uses.
    pub clock: Arc<ManualClock>,
    /// Failures to inject.
    pub faults: Arc<Faults>,
    /// A tag unique to this scenario, in addresses and numbers.
    pub tag: String,
    /// The embedded data directory (embedded only), to reopen after a "restart".
    pub data_dir: Option<PathBuf>,
    outbox: Outbox,
    _temp: Option<tempfile::TempDir>,
}

static SEQUENCE: AtomicU32 = AtomicU32::new(0);

/// A tag no other scenario of this run, nor of an earlier run against the same moto server,
/// has: the scenario's number in its test binary, the binary's process id and the time.
fn unique_tag() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("t{}x{}p{}", SEQUENCE.fetch_add(1, Ordering::SeqCst), nanos % 1_000_000_000_000, std::process::id())
}

/// The payment webhook's signing secret in the scenarios (they sign deliveries with it).
pub const WEBHOOK_SECRET: &str = "whsec_scenarios_only";

/// The company registry of the scenarios: the local server's demo registry.
pub const REGISTRY_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../local/demo/registry.json");

/// The local operator token of the scenarios.
pub const OPERATOR_TOKEN: &str = "scenario-operator-token-0123456789abcdef";

/// Test configuration: real defaults, except the cheapest argon2id cost the policy allows.
pub fn test_config(extra: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = extra.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    vars.entry("SIGNET_PORTAL_URL".into()).or_insert_with(|| "https://portal.example.com".into());
    vars.entry("SIGNET_METRICS".into()).or_insert_with(|| "false".into());
    vars.entry("SIGNET_PAYMENT_WEBHOOK_SECRET".into()).or_insert_with(|| WEBHOOK_SECRET.into());
    vars.entry("SIGNET_GOOGLE_CLIENT_ID".into()).or_insert_with(|| google::CLIENT_ID.into());
    vars.entry("SIGNET_GOOGLE_ISSUER".into()).or_insert_with(|| google::ISSUER.into());
    vars.entry("SIGNET_GOOGLE_JWKS_URL".into()).or_insert_with(|| google::issuer().jwks_url.clone());
    vars.entry("SIGNET_REGISTRY_FILE".into()).or_insert_with(|| REGISTRY_FILE.into());
    vars.entry("SIGNET_OPERATOR_TOKEN".into()).or_insert_with(|| OPERATOR_TOKEN.into());
    vars.entry("SIGNET_OPERATOR_PRINCIPALS".into())
        .or_insert_with(|| "arn:aws:sts::123456789012:assumed-role/SignetOperator/".into());
    signet_shared::app::configuration(&vars).expect("test configuration")
}

fn wrap(mut services: Services, faults: &Arc<Faults>) -> Services {
    services.mailer = Arc::new(FaultyMailer(services.mailer.clone(), faults.clone()));
    services.sms = Arc::new(FaultySms(services.sms.clone(), faults.clone()));
    services.keys = Arc::new(FaultyKeys(services.keys.clone(), faults.clone()));
    services.store = Arc::new(CountingStore(services.store.clone(), faults.calls.clone()));
    services.voice = Arc::new(CountingVoice(services.voice.clone(), faults.calls.clone()));
    services
}

fn app_of(services: &Services) -> Router {
    signet_shared::web::finish(signet_local::api_routes(services.clone()), "test", false)
}

impl World {
    /// The embedded back end in a fresh directory.
    pub async fn embedded() -> World {
        let temp = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::at(signet_shared::ports::SystemClock.now()));
        let backend =
            signet_shared::app::wiring::embedded_with_clock(test_config(&[]), temp.path(), clock.clone()).unwrap();
        let faults = Arc::new(Faults::default());
        let services = wrap(backend.services, &faults);
        World {
            backend: "embedded",
            app: app_of(&services),
            services,
            clock,
            faults,
            tag: unique_tag(),
            data_dir: Some(temp.path().to_owned()),
            outbox: Outbox::Embedded(backend.outbox),
            _temp: Some(temp),
        }
    }

    /// The AWS back end against moto: a fresh table and KMS key for this scenario.
    pub async fn aws() -> World {
        let moto = std::env::var("SIGNET_TEST_MOTO_URL").expect(
            "SIGNET_TEST_MOTO_URL is not set: the AWS scenarios need moto server; run them with `bash scripts/test.sh`",
        );
        let tag = unique_tag();
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&moto)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "static"))
            .load()
            .await;
        let table = format!("signet-{tag}");
        create_table(&aws_sdk_dynamodb::Client::new(&sdk), &table).await;
        let ses = aws_sdk_sesv2::Client::new(&sdk);
        // A domain identity covers its addresses; it may exist from another scenario.
        let _ = ses.create_email_identity().email_identity("example.com").send().await;
        let key = aws_sdk_kms::Client::new(&sdk).create_key().send().await.expect("moto KMS create_key");
        let key_id = key.key_metadata().unwrap().key_id().to_owned();
        let ca_key = aws_sdk_kms::Client::new(&sdk)
            .create_key()
            .key_spec(aws_sdk_kms::types::KeySpec::EccNistP256)
            .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
            .send()
            .await
            .expect("moto KMS create_key (CA)");
        let ca_key_id = ca_key.key_metadata().unwrap().key_id().to_owned();
        let voice = Arc::new(Mutex::new(Vec::new()));
        let voice_url = start_voice_recorder(voice.clone(), moto.clone()).await;
        let config = test_config(&[
            ("SIGNET_TABLE", &table),
            ("SIGNET_KMS_KEY_ID", &key_id),
            ("SIGNET_CA_KMS_KEY_ID", &ca_key_id),
            ("SIGNET_MAIL_FROM", "no-reply@example.com"),
            ("SIGNET_VOICE_ORIGINATION", "+14155550199"),
            ("SIGNET_VOICE_ENDPOINT_URL", &voice_url),
            // An emulator: the local payment page stands in for the payment provider.
            ("SIGNET_AWS_ENDPOINT_URL", &moto),
        ]);
        let clock = Arc::new(ManualClock::at(signet_shared::ports::SystemClock.now()));
        let faults = Arc::new(Faults::default());
        let services = wrap(signet_shared::app::wiring::aws_with_clock(config, &sdk, clock.clone()), &faults);
        let before = moto_sent(&moto).await;
        let emails_before = before.iter().filter(|m| m.channel == "email").count();
        let sms_before = before.len() - emails_before;
        World {
            backend: "aws",
            app: app_of(&services),
            services,
            clock,
            faults,
            tag,
            data_dir: None,
            outbox: Outbox::Aws { moto, voice, emails_before, sms_before },
            _temp: None,
        }
    }

    /// Closes the embedded database and opens it again from its files, as a restart of
    /// the local server does.
    pub fn restart(self) -> World {
        let World { clock, faults, tag, data_dir, _temp, app, services, outbox, .. } = self;
        drop((app, services, outbox));
        let dir = data_dir.clone().expect("restart is for the embedded back end");
        let backend = signet_shared::app::wiring::embedded_with_clock(test_config(&[]), &dir, clock.clone()).unwrap();
        let services = wrap(backend.services, &faults);
        World {
            backend: "embedded",
            app: app_of(&services),
            services,
            clock,
            faults,
            tag,
            data_dir,
            outbox: Outbox::Embedded(backend.outbox),
            _temp,
        }
    }

    /// An address unique to this scenario: `<name>.<tag>@example.com`.
    pub fn email(&self, name: &str) -> String {
        format!("{name}.{}@example.com", self.tag)
    }

    /// A phone number unique to this process run: Canadian fictional numbers (+1 514 555
    /// 01xx and on), which the default country allow-list accepts.
    pub fn phone(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let area = [514, 438, 416, 647, 604, 613, 204, 418][(n / 100) as usize % 8];
        format!("+1 {area} 555 01{:02}", n % 100)
    }

    /// Sends a request with a JSON body (or raw bytes) and headers; returns the status,
    /// the headers and the body parsed as JSON (Null when empty or not JSON).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, HeaderMap, Value) {
        let mut request = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = self.app.clone().oneshot(request.body(Body::from(body)).unwrap()).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// Sends a request with `Authorization: Bearer <access>` and a JSON body (none when
    /// `body` is null); returns status and body.
    pub async fn call(&self, method: Method, path: &str, access: &str, body: Value) -> (StatusCode, Value) {
        let auth = format!("Bearer {access}");
        let mut headers = vec![("authorization", auth.as_str())];
        let bytes = if body.is_null() { vec![] } else { body.to_string().into_bytes() };
        if !bytes.is_empty() {
            headers.push(("content-type", "application/json"));
        }
        let (status, _, body) = self.send(method, path, &headers, bytes).await;
        (status, body)
    }

    /// POSTs a JSON value; returns status and body.
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let (status, _, body) =
            self.send(Method::POST, path, &[("content-type", "application/json")], body.to_string().into_bytes()).await;
        (status, body)
    }

    /// POSTs the bodies at the same time, each on its own task; answers in order.
    pub async fn post_concurrently(&self, path: &str, bodies: Vec<Value>) -> Vec<(StatusCode, Value)> {
        self.post_concurrently_as(path, None, bodies).await
    }

    /// Like [`World::post_concurrently`], each request from its own source address
    /// (`203.0.113.<n>`), as the API Gateway or the local server would tell them apart.
    pub async fn post_concurrently_from_many_sources(
        &self,
        path: &str,
        bodies: Vec<Value>,
    ) -> Vec<(StatusCode, Value)> {
        let requests = bodies.into_iter().enumerate().map(|(i, body)| {
            let mut request = Request::post(path)
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap();
            request.extensions_mut().insert(signet_shared::domain::audit::RequestContext {
                source_ip: format!("203.0.113.{i}"),
                request_id: format!("race-{i}"),
            });
            request
        });
        self.race(requests.collect()).await
    }

    /// Like [`World::post_concurrently`], with `Authorization: Bearer <token>` when given.
    pub async fn post_concurrently_as(
        &self,
        path: &str,
        bearer: Option<&str>,
        bodies: Vec<Value>,
    ) -> Vec<(StatusCode, Value)> {
        let requests = bodies.into_iter().map(|body| {
            let mut request = Request::post(path).header("content-type", "application/json");
            if let Some(token) = bearer {
                request = request.header("authorization", format!("Bearer {token}"));
            }
            request.body(Body::from(body.to_string())).unwrap()
        });
        self.race(requests.collect()).await
    }

    /// Sends the requests at the same time, each on its own task held at a barrier until all
    /// are ready; answers in order.
    async fn race(&self, requests: Vec<Request<Body>>) -> Vec<(StatusCode, Value)> {
        let start = Arc::new(tokio::sync::Barrier::new(requests.len()));
        let tasks: Vec<_> = requests
            .into_iter()
            .map(|request| {
                let (app, start) = (self.app.clone(), start.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    let response = app.oneshot(request).await.unwrap();
                    let status = response.status();
                    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
                    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
                })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        answers
    }

    /// Creates an active account through the sign-up journey; returns its phone number.
    pub async fn sign_up(&self, email: &str, password: &str, channel: &str) -> String {
        let (status, body) = self.post("/signup", serde_json::json!({"email": email})).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let link = self.last_to(email).await.link_token();
        let (_, verified) = self.post("/signup/verify", serde_json::json!({"token": link})).await;
        let token = verified["signup_token"].as_str().expect("signup token").to_owned();
        let phone = self.phone();
        let profile = serde_json::json!({"signup_token": token, "first_name": "Test", "last_name": "Subscriber", "password": password, "phone": phone, "channel": channel});
        let (status, body) = self.post("/signup/profile", profile).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let code = self.last_to(&phone).await.code();
        let (status, body) =
            self.post("/signup/confirm", serde_json::json!({"signup_token": token, "code": code})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        phone
    }

    /// Signs in with the password and the SMS or voice code sent to `phone` (a person with
    /// one space); returns the signed-in answer (`access_token`, `refresh_token`,
    /// `session_id`, `device_token`…).
    pub async fn sign_in(&self, email: &str, phone: &str, password: &str) -> Value {
        let (status, started) = self
            .post("/login", serde_json::json!({"email": email, "password": password, "device": "test device"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{started}");
        assert_eq!(started["status"], "second_factor_required", "{started}");
        let code = self.last_to(phone).await.code();
        let (status, body) =
            self.post("/login/code", serde_json::json!({"login_token": started["login_token"], "code": code})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "signed_in", "{body}");
        body
    }

    /// The password and the code again, within the session of `access`.
    pub async fn reauthenticate(&self, access: &str, phone: &str, password: &str) {
        let (status, started) =
            self.call(Method::POST, "/reauth", access, serde_json::json!({"password": password})).await;
        assert_eq!(status, StatusCode::OK, "{started}");
        let code = self.last_to(phone).await.code();
        let (status, body) = self
            .call(
                Method::POST,
                "/reauth/code",
                access,
                serde_json::json!({"challenge_token": started["login_token"], "code": code}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// A person with a personal space, written straight to the store (no sign-up, no
    /// password hashing): for scenarios about what comes after. Their phone is +1 514 555 0100.
    pub async fn person(&self, name: &str) -> signet_shared::domain::people::account::Person {
        use signet_shared::domain::people::account::{self, CustomerSpace, Person, PhoneFactor, SpaceKind};
        let id = self.services.new_id();
        let phone = self.services.keys.seal(b"+15145550100", &account::person_phone_context(&id)).await.unwrap();
        let email = signet_shared::domain::people::email::EmailAddress::parse(&self.email(name)).unwrap();
        let phone = PhoneFactor {
            phone,
            hint: "+1 ••• ••00".into(),
            channel: signet_shared::domain::people::phone::PhoneChannel::Sms,
        };
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$unused".to_owned();
        let person = Person::new(
            id.clone(),
            email,
            "Test".into(),
            "Subscriber".into(),
            signet_shared::Locale::En,
            hash,
            Some(phone),
            self.services.now(),
        );
        let space = CustomerSpace {
            id: format!("space-{id}"),
            kind: SpaceKind::Individual,
            name: "Test Subscriber".into(),
            created_at: 0,
            billing: None,
        };
        self.services.store.transact(account::individual_account_writes(&person, &space).unwrap()).await.unwrap();
        person
    }

    /// Opens a session of `person` in their personal space (see [`World::person`]).
    pub async fn open_session(
        &self,
        person: &signet_shared::domain::people::account::Person,
        device: &str,
    ) -> signet_shared::domain::sessions::session::SessionGrant {
        let space = format!("space-{}", person.id);
        signet_shared::domain::sessions::session::open(
            &self.services,
            &person.id,
            &space,
            vec!["pwd".into(), "sms".into()],
            person.session_epoch,
            device,
        )
        .await
        .unwrap()
    }

    /// Everything sent so far to `to`, oldest first.
    pub async fn sent_to(&self, to: &str) -> Vec<Sent> {
        let normal = to.replace(' ', "").to_lowercase();
        let all = match &self.outbox {
            Outbox::Embedded(outbox) => outbox
                .list(10_000)
                .unwrap()
                .into_iter()
                .rev()
                .map(|m| Sent { channel: m.channel, to: m.to, subject: m.subject.unwrap_or_default(), body: m.body })
                .collect(),
            Outbox::Aws { moto, voice, emails_before, sms_before } => {
                let sent = moto_sent(moto).await;
                let emails = sent.iter().filter(|m| m.channel == "email").skip(*emails_before);
                let mut all: Vec<Sent> = emails.cloned().collect();
                let calls = voice.lock().unwrap().clone();
                let mut calls = calls.into_iter().peekable();
                for (i, text) in sent.iter().filter(|m| m.channel == "sms").enumerate() {
                    while let Some((_, call)) = calls.next_if(|(texts_before, _)| *texts_before <= i) {
                        all.push(call);
                    }
                    if i >= *sms_before {
                        all.push(text.clone());
                    }
                }
                all.extend(calls.map(|(_, call)| call));
                all
            }
        };
        all.into_iter().filter(|m| m.to.replace(' ', "").to_lowercase() == normal).collect()
    }

    /// Submits the local hosted payment page of `checkout_url` with a card number (or
    /// `cancel`), as a buyer's browser does; returns the page's status and its redirect.
    pub async fn pay(&self, checkout_url: &str, card: &str) -> (StatusCode, Option<String>) {
        let path =
            checkout_url.strip_prefix(&self.services.config.payments.page_url).expect("a local payment page URL");
        let form = if card == "cancel" {
            "action=cancel".to_owned()
        } else {
            format!("action=pay&card_number={}&expiry=12%2F30&cvc=123", card.replace(' ', "+"))
        };
        let page = signet_local::payment_page::routes(self.services.clone(), self.app.clone());
        let request = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap();
        let response = page.oneshot(request).await.unwrap();
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        (response.status(), location)
    }

    /// Presses "Pay" `presses` times at once on the local hosted payment page (a double
    /// click, an impatient buyer); the answers in order.
    pub async fn pay_concurrently(
        &self,
        checkout_url: &str,
        card: &str,
        presses: usize,
    ) -> Vec<(StatusCode, Option<String>)> {
        let path = checkout_url
            .strip_prefix(&self.services.config.payments.page_url)
            .expect("a local payment page URL")
            .to_owned();
        let form = format!("action=pay&card_number={}&expiry=12%2F30&cvc=123", card.replace(' ', "+"));
        let start = Arc::new(tokio::sync::Barrier::new(presses));
        let tasks: Vec<_> = (0..presses)
            .map(|_| {
                let page = signet_local::payment_page::routes(self.services.clone(), self.app.clone());
                let request = Request::post(path.clone())
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from(form.clone()))
                    .unwrap();
                let start = start.clone();
                tokio::spawn(async move {
                    start.wait().await;
                    let response = page.oneshot(request).await.unwrap();
                    (response.status(), response.headers().get("location").map(|v| v.to_str().unwrap().to_owned()))
                })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        answers
    }

    /// The last message sent to `to`; panics when there is none.
    pub async fn last_to(&self, to: &str) -> Sent {
        self.sent_to(to).await.pop().unwrap_or_else(|| panic!("nothing was sent to {to}"))
    }
}

async fn create_table(client: &aws_sdk_dynamodb::Client, table: &str) {
    use aws_sdk_dynamodb::types::*;
    let attr = |name: &str| {
        AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build().unwrap()
    };
    let key = |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build().unwrap();
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .attribute_definitions(attr("gsi1pk"))
        .attribute_definitions(attr("gsi1sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("gsi1")
                .key_schema(key("gsi1pk", KeyType::Hash))
                .key_schema(key("gsi1sk", KeyType::Range))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("moto DynamoDB create_table");
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder().attribute_name("ttl").enabled(true).build().unwrap(),
        )
        .send()
        .await
        .expect("moto DynamoDB update_time_to_live");
}

/// Reads what moto recorded as sent (SES messages and SNS text messages).
async fn moto_sent(moto: &str) -> Vec<Sent> {
    let data = http_get(&format!("{moto}/signet/sent")).await;
    let data: Value = serde_json::from_str(&data).expect("moto data.json");
    let mut out = Vec::new();
    for m in data["ses"]["Message"].as_array().cloned().unwrap_or_default() {
        let destinations = &m["destinations"];
        let to: Vec<String> = destinations["ToAddresses"]
            .as_array()
            .or_else(|| destinations.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        for to in to {
            out.push(Sent {
                channel: "email".into(),
                to,
                subject: m["subject"].as_str().unwrap_or("").to_owned(),
                body: m["body"].as_str().unwrap_or("").to_owned(),
            });
        }
    }
    for m in data["sns"]["SMS"].as_array().cloned().unwrap_or_default() {
        out.push(Sent {
            channel: "sms".into(),
            to: m["phone_number"].as_str().unwrap_or("").to_owned(),
            subject: String::new(),
            body: m["message"].as_str().unwrap_or("").to_owned(),
        });
    }
    out
}

/// A plain HTTP/1.0 GET on loopback (the harness needs nothing more).
async fn http_get(url: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect to moto");
    stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    text.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default()
}

/// A loopback stand-in for AWS End User Messaging SMS and Voice v2 (moto has none): it
/// answers `SendVoiceMessage` as the service does and records what the real SDK client sent.
async fn start_voice_recorder(calls: Arc<Mutex<Vec<(usize, Sent)>>>, moto: String) -> String {
    use axum::routing::post;
    let app = Router::new().route(
        "/",
        post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let (calls, moto) = (calls.clone(), moto.clone());
            async move {
                let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("");
                let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                if target != "PinpointSMSVoiceV2.SendVoiceMessage"
                    || json["OriginationIdentity"].as_str().is_none()
                    || json["MessageBodyTextType"] != "TEXT"
                {
                    return (
                        StatusCode::BAD_REQUEST,
                        [("content-type", "application/x-amz-json-1.0")],
                        r#"{"__type":"ValidationException","Message":"bad request"}"#.to_owned(),
                    );
                }
                let texts_before = moto_sent(&moto).await.iter().filter(|m| m.channel == "sms").count();
                calls.lock().unwrap().push((
                    texts_before,
                    Sent {
                        channel: "voice".into(),
                        to: json["DestinationPhoneNumber"].as_str().unwrap_or("").to_owned(),
                        subject: json["VoiceId"].as_str().unwrap_or("").to_owned(),
                        body: json["MessageBody"].as_str().unwrap_or("").to_owned(),
                    },
                ));
                (
                    StatusCode::OK,
                    [("content-type", "application/x-amz-json-1.0")],
                    r#"{"MessageId":"recorded"}"#.to_owned(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// A local OpenID Connect issuer standing in for Google: its own RSA key, its JWKS served
/// on 127.0.0.1, and ID tokens signed on demand. One per test process.
pub mod google {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
    use base64::Engine;
    use serde_json::{json, Value};
    use std::sync::OnceLock;

    /// The client id the test configuration expects in `aud`.
    pub const CLIENT_ID: &str = "signet-test.apps.example.com";
    /// The test issuer.
    pub const ISSUER: &str = "https://accounts.example.com";

    /// The issuer's keys and where its JWKS is served.
    pub struct TestIssuer {
        key: KeyPair,
        /// Its key id.
        pub kid: String,
        /// The JWKS URL.
        pub jwks_url: String,
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The process's test issuer, started on first use.
    pub fn issuer() -> &'static TestIssuer {
        static ISSUER_CELL: OnceLock<TestIssuer> = OnceLock::new();
        ISSUER_CELL.get_or_init(|| {
            let key = KeyPair::generate(KeySize::Rsa2048).expect("RSA key");
            let kid = "test-key-1".to_owned();
            let public = key.public_key();
            let jwks = json!({"keys": [{
                "kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
                "n": b64(public.modulus().big_endian_without_leading_zero()),
                "e": b64(public.exponent().big_endian_without_leading_zero()),
            }]})
            .to_string();
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.set_nonblocking(true).unwrap();
            let port = listener.local_addr().unwrap().port();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    let app = axum::Router::new().route(
                        "/jwks",
                        axum::routing::get(move || async move { ([("content-type", "application/json")], jwks) }),
                    );
                    axum::serve(listener, app).await.unwrap();
                });
            });
            TestIssuer { key, kid, jwks_url: format!("http://127.0.0.1:{port}/jwks") }
        })
    }

    impl TestIssuer {
        /// Signs an ID token with these claims (RS256, this issuer's key id).
        pub fn sign(&self, claims: &Value) -> String {
            self.sign_with_header(&json!({"alg": "RS256", "typ": "JWT", "kid": self.kid}), claims)
        }

        /// Signs any header and claims with this issuer's key.
        pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
            let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
            let mut signature = vec![0; self.key.public_modulus_len()];
            self.key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut signature).unwrap();
            format!("{input}.{}", b64(&signature))
        }

        /// The usual claims of a verified Google account at `now`.
        pub fn claims(&self, email: &str, now: i64) -> Value {
            let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
            json!({"iss": ISSUER, "aud": CLIENT_ID, "sub": format!("g-{email}"), "email": email, "email_verified": true, "hd": domain, "iat": now, "exp": now + 3600})
        }
    }
}
