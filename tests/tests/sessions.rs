//! Sessions and refresh-token families, on both back ends.

use signet_shared::domain::keys;
use signet_shared::domain::people::account::Person;
use signet_shared::domain::sessions::session;
use signet_shared::ports::store::Write;
use signet_shared::ErrorCode;
use signet_tests::{scenarios, World};

scenarios!(
    refresh_rotates_the_token_and_the_old_one_no_longer_works,
    a_replayed_refresh_token_revokes_the_whole_family,
    a_replay_right_after_a_rotation_is_a_conflict_not_a_revocation,
    a_forged_secret_fails_without_harming_the_family,
    a_password_change_ends_every_session,
    racing_refreshes_with_one_token_have_one_winner,
    sessions_are_listed_and_revoked,
);

async fn person(w: &World, name: &str) -> Person {
    w.person(name).await
}

async fn open(w: &World, p: &Person, device: &str) -> session::SessionGrant {
    w.open_session(p, device).await
}

fn code_of(result: signet_shared::Result<session::SessionGrant>) -> ErrorCode {
    result.map(|_| ()).unwrap_err().code
}

async fn refresh_rotates_the_token_and_the_old_one_no_longer_works(w: World) {
    let p = person(&w, "rotate").await;
    let first = open(&w, &p, "phone").await;
    w.clock.advance(60);
    let second = session::refresh(&w.services, &first.refresh_token).await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(second.session.id, first.session.id);
    assert_eq!(second.session.generation, 1);
    let stored = w.services.store.get(&keys::session(&first.session.id)).await.unwrap().unwrap();
    assert!(!stored.body.contains(&second.refresh_token[33..]), "only a hash is stored");
    w.clock.advance(60);
    let third = session::refresh(&w.services, &second.refresh_token).await.unwrap();
    assert_eq!(third.session.generation, 2);
}

async fn a_replayed_refresh_token_revokes_the_whole_family(w: World) {
    let p = person(&w, "replay").await;
    let first = open(&w, &p, "phone").await;
    let second = session::refresh(&w.services, &first.refresh_token).await.unwrap();
    w.clock.advance(session::ROTATION_GRACE_SECONDS + 1);
    // Someone replays the first token (a stolen copy): the family ends...
    assert_eq!(code_of(session::refresh(&w.services, &first.refresh_token).await), ErrorCode::TokenInvalid);
    // ...including for the legitimate holder of the newest token.
    assert_eq!(code_of(session::refresh(&w.services, &second.refresh_token).await), ErrorCode::TokenInvalid);
    assert!(session::list(&w.services, &p.id).await.unwrap().is_empty());
}

async fn a_replay_right_after_a_rotation_is_a_conflict_not_a_revocation(w: World) {
    let p = person(&w, "grace").await;
    let first = open(&w, &p, "browser").await;
    let second = session::refresh(&w.services, &first.refresh_token).await.unwrap();
    assert_eq!(code_of(session::refresh(&w.services, &first.refresh_token).await), ErrorCode::Conflict);
    assert!(session::refresh(&w.services, &second.refresh_token).await.is_ok(), "the family lives on");
}

async fn a_forged_secret_fails_without_harming_the_family(w: World) {
    let p = person(&w, "forged").await;
    let first = open(&w, &p, "browser").await;
    let forged = format!("{}.{}", first.session.id, "A".repeat(43));
    assert_eq!(code_of(session::refresh(&w.services, &forged).await), ErrorCode::TokenInvalid);
    assert_eq!(code_of(session::refresh(&w.services, "garbage").await), ErrorCode::TokenInvalid);
    assert!(session::refresh(&w.services, &first.refresh_token).await.is_ok());
}

async fn a_password_change_ends_every_session(w: World) {
    let mut p = person(&w, "password").await;
    let phone = open(&w, &p, "phone").await;
    let browser = open(&w, &p, "browser").await;
    // The password change bumps the epoch (what the login function will do).
    let item = w.services.store.get(&keys::person(&p.id)).await.unwrap().unwrap();
    p.session_epoch += 1;
    w.services.store.write(Write::replace(item.next(&p).unwrap())).await.unwrap();
    for issued in [phone, browser] {
        assert_eq!(code_of(session::refresh(&w.services, &issued.refresh_token).await), ErrorCode::TokenInvalid);
    }
    assert!(session::list(&w.services, &p.id).await.unwrap().is_empty());
}

async fn racing_refreshes_with_one_token_have_one_winner(w: World) {
    let p = person(&w, "race").await;
    let first = open(&w, &p, "phone").await;
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (services, token) = (w.services.clone(), first.refresh_token.clone());
        tasks.push(tokio::spawn(async move { session::refresh(&services, &token).await }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(issued) => winners.push(issued),
            Err(e) => assert_eq!(e.code, ErrorCode::Conflict, "{e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one rotation wins");
    assert!(session::refresh(&w.services, &winners[0].refresh_token).await.is_ok(), "the family survives the race");
}

async fn sessions_are_listed_and_revoked(w: World) {
    let p = person(&w, "list").await;
    let phone = open(&w, &p, "phone").await;
    w.clock.advance(1);
    let laptop = open(&w, &p, "laptop").await;
    w.clock.advance(1);
    let tablet = open(&w, &p, "tablet").await;
    let devices: Vec<String> = session::list(&w.services, &p.id).await.unwrap().into_iter().map(|s| s.device).collect();
    assert_eq!(devices, ["phone", "laptop", "tablet"]);
    // Another person cannot revoke them.
    let other = person(&w, "other").await;
    let err = session::revoke(&w.services, &other.id, &phone.session.id, "logout").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    session::revoke(&w.services, &p.id, &tablet.session.id, "logout").await.unwrap();
    assert_eq!(code_of(session::refresh(&w.services, &tablet.refresh_token).await), ErrorCode::TokenInvalid);
    assert_eq!(
        session::revoke_all_except(&w.services, &p.id, Some(&laptop.session.id), "sign_out_elsewhere").await.unwrap(),
        1
    );
    let left: Vec<String> = session::list(&w.services, &p.id).await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(left, std::slice::from_ref(&laptop.session.id));
}
