//! Sessions: one refresh-token family per sign-in (a browser, a phone). Refresh tokens are
//! opaque (`<session id>.<secret>`), stored hashed, rotated at each use; presenting an
//! older token of the family — a stolen copy — revokes the whole family. A session carries
//! the person's session epoch: a password change bumps the epoch and ends every session.

use crate::config::TokenSettings;
use crate::domain::keys;
use crate::domain::people::account::{self, Person};
use crate::domain::retry::{self, Round};
use crate::domain::secret_token;
use crate::ports::store::{Condition, Item, StoreError, Write};
use crate::{domain::services::Services, error::Error, error::ErrorCode, error::Result};
use serde::{Deserialize, Serialize};

/// How many earlier generations are remembered to recognize a replayed token.
const REMEMBERED_GENERATIONS: usize = 20;

/// A second use of the previous token this soon after a rotation is taken for a client
/// retry (two tabs, a lost answer), answered with a conflict rather than a revocation.
pub const ROTATION_GRACE_SECONDS: i64 = 10;

/// One refresh-token family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Session id (`sid` in access tokens).
    pub id: String,
    /// The person.
    pub person_id: String,
    /// The customer space the session acts for.
    pub space_id: String,
    /// Authentication methods of the sign-in.
    pub amr: Vec<String>,
    /// The person's session epoch at sign-in.
    pub epoch: u64,
    /// A label for "my sessions" (device or browser).
    pub device: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Last refresh, unix seconds.
    pub last_used_at: i64,
    /// Refreshes so far.
    pub generation: u64,
    /// Hash of the current refresh token's secret.
    pub current_hash: String,
    /// Hashes of earlier tokens of the family, newest first.
    pub previous_hashes: Vec<String>,
    /// Set when revoked (logout, reuse, password change); kept until it expires.
    pub revoked: Option<String>,
    /// When the person last confirmed their identity in this session (password and second
    /// factor again), for steps that change a credential.
    #[serde(default)]
    pub reauthenticated_at: Option<i64>,
    /// Wrong passwords given to re-authenticate in this session: its own allowance, so
    /// that guesses elsewhere never stop the owner confirming their identity here.
    #[serde(default)]
    pub reauth_failures: account::LoginFailures,
    /// Wrong passwords given to re-authenticate in this session, ever: at
    /// [`REAUTH_FAILURES_BEFORE_REVOCATION`] the session ends (whoever holds it does not know
    /// the password: a stolen session buys no long run of guesses).
    #[serde(default)]
    pub reauth_failures_total: u32,
}

/// Wrong re-authentication passwords that end a session.
pub const REAUTH_FAILURES_BEFORE_REVOCATION: u32 = 10;

/// How long a re-authentication allows credential changes.
pub const REAUTHENTICATION_SECONDS: i64 = 300;

impl Session {
    /// When the session ends however often it is refreshed (its absolute lifetime).
    pub fn ends_at(&self, settings: &TokenSettings) -> i64 {
        self.created_at + settings.session_max_lifetime
    }

    /// The expiry of the session's item when used at `now`: the idle lifetime from now,
    /// never past the absolute end.
    fn expiry(&self, settings: &TokenSettings, now: i64) -> i64 {
        (now + settings.session_idle_ttl).min(self.ends_at(settings))
    }
}

/// The session and the person behind an access token, both live: the session is not
/// revoked nor past its absolute lifetime, and the person's session epoch (bumped by a
/// password change) is the session's and the token's. Read together in one call; every
/// authenticated request loads it (see [`crate::web::auth::Authenticated`]), so a token of an
/// ended session is refused at once, not when it expires.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    /// The session's item.
    pub session_item: Item,
    /// The session.
    pub session: Session,
    /// The person's item.
    pub person_item: Item,
    /// The person.
    pub person: Person,
}

impl Live {
    /// Loads the live session of an access token (one batch read of the session and the
    /// person); `token_invalid` when it ended.
    pub async fn load(
        services: &Services,
        claims: &crate::domain::sessions::access_token::AccessClaims,
    ) -> Result<Live> {
        let invalid = || Error::new(ErrorCode::TokenInvalid);
        let keys = [keys::session(&claims.sid), keys::person(&claims.sub)];
        let mut found = services.store.get_many(&keys).await?.into_iter();
        let (session_item, person_item) =
            (found.next().flatten().ok_or_else(invalid)?, found.next().flatten().ok_or_else(invalid)?);
        let session: Session = session_item.decode()?;
        let person: Person = person_item.decode()?;
        let epoch = person.session_epoch;
        let ended = services.now() >= session.ends_at(&services.config.tokens);
        // A token of the space the session left (switching space mints a new one) ends too.
        let moved = session.space_id != claims.space;
        if session.person_id != claims.sub
            || session.revoked.is_some()
            || session.epoch != epoch
            || claims.epoch != epoch
            || ended
            || moved
        {
            return Err(invalid());
        }
        Ok(Live { session_item, session, person_item, person })
    }

    /// Refuses the step unless the person re-authenticated in this session just now.
    pub fn require_recent_authentication(&self, now: i64) -> Result<()> {
        match self.session.reauthenticated_at {
            Some(at) if now - at <= REAUTHENTICATION_SECONDS && at <= now => Ok(()),
            _ => Err(Error::new(ErrorCode::ReauthenticationRequired)),
        }
    }
}

/// A session and the refresh token to give its holder (never stored in clear).
#[derive(Debug, Clone)]
pub struct SessionGrant {
    /// The session.
    pub session: Session,
    /// `<session id>.<secret>`.
    pub refresh_token: String,
}

/// A session ready to be created: its write goes in the caller's transaction.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The session and its first refresh token.
    pub issued: SessionGrant,
    /// The write that creates it.
    pub write: Write,
}

/// Opens a session for a person who just signed in. It lives the configured idle lifetime
/// from each refresh, and never past its absolute lifetime.
pub async fn open(
    services: &Services,
    person_id: &str,
    space_id: &str,
    amr: Vec<String>,
    epoch: u64,
    device: &str,
) -> Result<SessionGrant> {
    let prepared = prepare(services, person_id, space_id, amr, epoch, device)?;
    services.store.write(prepared.write).await?;
    Ok(prepared.issued)
}

/// Prepares a session without writing it (see [`Prepared`]).
pub fn prepare(
    services: &Services,
    person_id: &str,
    space_id: &str,
    amr: Vec<String>,
    epoch: u64,
    device: &str,
) -> Result<Prepared> {
    let now = services.now();
    let id = services.new_id();
    let token = secret_token::issue(&id, services.random.as_ref());
    let session = Session {
        id: id.clone(),
        person_id: person_id.to_owned(),
        space_id: space_id.to_owned(),
        amr,
        epoch,
        device: device.chars().take(120).collect(),
        created_at: now,
        last_used_at: now,
        generation: 0,
        current_hash: token.hash,
        previous_hashes: Vec::new(),
        revoked: None,
        reauthenticated_at: None,
        reauth_failures: account::LoginFailures::default(),
        reauth_failures_total: 0,
    };
    let expiry = session.expiry(&services.config.tokens, now);
    let item = Item::new(keys::session(&id), &session)?
        .expires_at(expiry)
        .gsi1(keys::person_session_index(person_id, now, &id));
    Ok(Prepared { issued: SessionGrant { session, refresh_token: token.token }, write: Write::create(item) })
}

/// Exchanges a refresh token for the next one (two reads: the session, then its person,
/// whose session epoch tells whether the password changed since the sign-in; one write).
/// Errors: `token_invalid` (unknown, expired — idle too long or past its absolute
/// lifetime —, revoked, forged, replayed — a replay also revokes the family — or the
/// password changed) or `conflict` (a replay within the grace period of a rotation, or a
/// concurrent refresh with the same token).
pub async fn refresh(services: &Services, refresh_token: &str) -> Result<SessionGrant> {
    let invalid = || Error::new(ErrorCode::TokenInvalid);
    let presented = secret_token::parse(refresh_token).ok_or_else(invalid)?;
    let store = services.store.as_ref();
    let item = store.get(&keys::session(presented.id)).await?.ok_or_else(invalid)?;
    let mut session: Session = item.decode()?;
    let now = services.now();
    let settings = &services.config.tokens;
    if session.revoked.is_some() || now >= session.ends_at(settings) {
        return Err(invalid());
    }
    let person: Option<Person> = store.get(&keys::person(&session.person_id)).await?.map(|i| i.decode()).transpose()?;
    if person.is_none_or(|p| p.session_epoch != session.epoch) {
        revoke_item(services, &item, session, "password_changed").await?;
        return Err(invalid());
    }
    if !presented.matches(&session.current_hash) {
        if session.previous_hashes.iter().any(|h| presented.matches(h)) {
            if now - session.last_used_at <= ROTATION_GRACE_SECONDS
                && session.previous_hashes.first().is_some_and(|h| presented.matches(h))
            {
                return Err(Error::new(ErrorCode::Conflict));
            }
            tracing::warn!(session = %session.id, person = %session.person_id, "refresh token replayed: family revoked");
            revoke_item(services, &item, session, "refresh_token_reuse").await?;
        }
        return Err(invalid());
    }
    let next = secret_token::issue(&session.id, services.random.as_ref());
    let old = std::mem::replace(&mut session.current_hash, next.hash);
    session.previous_hashes.insert(0, old);
    session.previous_hashes.truncate(REMEMBERED_GENERATIONS);
    session.generation += 1;
    session.last_used_at = now;
    let updated = item.next(&session)?.expires_at(session.expiry(settings, now));
    match store.write(Write::replace(updated)).await {
        Ok(()) => Ok(SessionGrant { session, refresh_token: next.token }),
        // A concurrent refresh with the same token won: this one is the duplicate.
        Err(StoreError::ConditionFailed(_)) => Err(Error::new(ErrorCode::Conflict)),
        Err(e) => Err(e.into()),
    }
}

/// Marks a session revoked and takes it out of its person's index, which so lists only
/// sessions not revoked; a concurrent refresh cannot undo it (a lost race is retried on the
/// fresh session).
async fn revoke_item(services: &Services, item: &Item, session: Session, reason: &str) -> Result<()> {
    retry::optimistic_from(10, retry::busy, (item.clone(), session), |(item, mut session)| async move {
        if session.revoked.is_some() && item.gsi1.is_none() {
            return Ok(Round::Done(()));
        }
        match services.store.write(revocation(&item, &mut session, reason)?).await {
            Ok(()) => Ok(Round::Done(())),
            Err(StoreError::ConditionFailed(_)) => match services.store.get(&item.key).await? {
                Some(fresh) => Ok(Round::Again((fresh.clone(), fresh.decode()?))),
                None => Ok(Round::Done(())),
            },
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// The write that marks a session revoked (once: a first reason stands) and takes it out
/// of its person's index, as the next version of `item`.
pub fn revocation(item: &Item, session: &mut Session, reason: &str) -> Result<Write> {
    if session.revoked.is_none() {
        session.revoked = Some(reason.to_owned());
    }
    let mut next = item.next(session)?;
    next.gsi1 = None;
    Ok(Write::replace(next))
}

/// Moves the live session of a request to another of its person's spaces (the caller
/// checked the membership); later refreshes act for that space. The write is conditional
/// on the session and the person as the request read them: a session revoked, or a
/// password changed, in between mints nothing.
pub async fn switch_space(services: &Services, live: &Live, space_id: &str) -> Result<Session> {
    let mut session = live.session.clone();
    session.space_id = space_id.to_owned();
    let writes = vec![
        Write::replace(live.session_item.next(&session)?),
        Write::Check { key: live.person_item.key.clone(), condition: Condition::Version(live.person_item.version) },
    ];
    match services.store.transact(writes).await {
        Ok(()) => Ok(session),
        Err(StoreError::ConditionFailed(_)) => Err(Error::new(ErrorCode::Conflict)),
        Err(e) => Err(e.into()),
    }
}

/// Revokes one session of a person (logout, or "revoke" in the session list).
pub async fn revoke(services: &Services, person_id: &str, session_id: &str, reason: &str) -> Result<()> {
    if !crate::domain::crypto::is_random_id(session_id) {
        return Err(Error::new(ErrorCode::NotFound));
    }
    let item = services.store.get(&keys::session(session_id)).await?.ok_or_else(|| Error::new(ErrorCode::NotFound))?;
    let session: Session = item.decode()?;
    if session.person_id != person_id {
        return Err(Error::new(ErrorCode::NotFound));
    }
    revoke_item(services, &item, session, reason).await
}

/// How many sessions one read of a person's index lists.
const PAGE: usize = 200;

/// A person's sessions not revoked, oldest first (the first 200; every one is ended by a
/// password change whatever their number, see [`revoke_all_except`]).
pub async fn list(services: &Services, person_id: &str) -> Result<Vec<Session>> {
    let items = services.store.query_gsi1(&keys::person_partition(person_id), keys::SESSION_PREFIX, PAGE).await?;
    let mut sessions = Vec::new();
    for item in items {
        let session: Session = item.decode()?;
        if session.revoked.is_none() {
            sessions.push(session);
        }
    }
    Ok(sessions)
}

/// Revokes every session of a person but `keep`, however many they opened (after a
/// password change, or "sign out everywhere else"). Returns how many were revoked.
///
/// A revoked session leaves its person's index, so the index is read again until it
/// holds nothing else: each round of 200 makes progress. (Ending them is the session
/// epoch's job when the password changes; this marks them, so that they leave the list.)
pub async fn revoke_all_except(
    services: &Services,
    person_id: &str,
    keep: Option<&str>,
    reason: &str,
) -> Result<usize> {
    let mut revoked = 0;
    // An index entry may outlive its removal a moment (DynamoDB's indexes are eventually
    // consistent): one seen already is not revoked twice, nor counted.
    let mut seen = std::collections::HashSet::new();
    let mut waits = 0;
    loop {
        let items = services.store.query_gsi1(&keys::person_partition(person_id), keys::SESSION_PREFIX, PAGE).await?;
        let full = items.len() == PAGE;
        let mut progressed = false;
        for item in items {
            let session: Session = item.decode()?;
            if Some(session.id.as_str()) == keep || !seen.insert(session.id.clone()) {
                continue;
            }
            progressed = true;
            let live = session.revoked.is_none();
            revoke_item(services, &item, session, reason).await?;
            revoked += usize::from(live);
        }
        if !progressed {
            // A full page of entries already done: the index has not caught up yet, and more
            // may stand behind them. Wait for it a little (a second at most).
            if full && waits < 5 {
                waits += 1;
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                continue;
            }
            return Ok(revoked);
        }
    }
}
