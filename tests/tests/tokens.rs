//! The access-token key ring, stored and sealed, on both back ends.

use signet_shared::domain::sessions::access_token::AccessClaims;
use signet_shared::domain::sessions::signing_keys;
use signet_tests::{scenarios, World};

scenarios!(signing_keys_are_created_sealed_rotated_and_old_tokens_still_verify);

fn claims(w: &World) -> AccessClaims {
    let now = w.services.now();
    AccessClaims {
        iss: w.services.config.portal_url.clone(),
        aud: "signet".into(),
        sub: "person".into(),
        space: "space".into(),
        amr: vec!["pwd".into()],
        sid: "session".into(),
        epoch: 0,
        iat: now,
        exp: now + 600,
        jti: w.services.new_id(),
    }
}

async fn signing_keys_are_created_sealed_rotated_and_old_tokens_still_verify(w: World) {
    let (iss, aud) = (w.services.config.portal_url.clone(), "signet");
    // The first load creates the first key; its private key is stored sealed only.
    let ring = signing_keys::load(&w.services, 900).await.unwrap();
    let stored = w.services.store.query("SIGNINGKEYS", "KEY#", 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].body.contains("PRIVATE"), "no clear private key in the store");
    let key: signing_keys::StoredSigningKey = stored[0].decode().unwrap();
    assert_eq!(key.kid, ring.signing_kid());
    let old_token = ring.sign(&claims(&w)).unwrap();

    // A second load finds the same key.
    let again = signing_keys::load(&w.services, 900).await.unwrap();
    assert_eq!(again.signing_kid(), ring.signing_kid());

    // Rotation: the new key signs, the old one still verifies and stays published a while.
    w.clock.advance(1);
    let new_kid = signing_keys::rotate(&w.services, 900).await.unwrap();
    let rotated = signing_keys::load(&w.services, 900).await.unwrap();
    assert_eq!(rotated.signing_kid(), new_kid);
    assert_eq!(rotated.jwks()["keys"].as_array().unwrap().len(), 2);
    let now = w.services.now();
    assert_eq!(rotated.verify(&old_token, &iss, aud, now).unwrap().sub, "person");
    let new_token = rotated.sign(&claims(&w)).unwrap();
    assert!(rotated.verify(&new_token, &iss, aud, now).is_ok());

    // After the keep period the old key is gone: its tokens no longer verify.
    w.clock.advance(901);
    let later = signing_keys::load(&w.services, 900).await.unwrap();
    assert_eq!(later.jwks()["keys"].as_array().unwrap().len(), 1);
    assert!(later.verify(&old_token, &iss, aud, w.services.now() - 900).is_err());
}
