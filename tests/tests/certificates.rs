//! The certificate authority on both back ends: real X.509 v3 certificates that
//! `openssl verify` accepts against the authority's certificate, whose public key matches the
//! subscriber's private key, with a status (good, revoked, unknown) per serial.

use signet_shared::domain::signatures::authority::{self, CertificateStatus, Subject};
use signet_shared::{domain::crypto, domain::signatures::x509};
use signet_tests::{scenarios, World};
use std::process::Command;

scenarios!(issued_certificates_verify_with_openssl_and_can_be_revoked,);

fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl").args(args).output().expect("openssl is installed");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

async fn issued_certificates_verify_with_openssl_and_can_be_revoked(w: World) {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let (pkcs8, spki) = authority::new_signing_key().unwrap();
    let not_after = w.services.now() + 365 * 86400;
    let subject =
        Subject { common_name: "Test Subscriber", email: "subscriber@example.com", reference: "subscription-1" };
    let issued = authority::issue(&w.services, &subject, &spki, not_after).await.unwrap();
    let authority = authority::authority(&w.services).await.unwrap();
    std::fs::write(path("ca.pem"), x509::pem("CERTIFICATE", &authority.der())).unwrap();
    std::fs::write(path("leaf.pem"), x509::pem("CERTIFICATE", &crypto::b64url_decode(&issued.certificate).unwrap()))
        .unwrap();
    std::fs::write(path("key.pem"), x509::pem("PRIVATE KEY", &pkcs8)).unwrap();
    let (ok, out) = openssl(&["verify", "-CAfile", &path("ca.pem"), &path("leaf.pem")]);
    assert!(ok && out.contains(": OK"), "{out}");
    let (_, text) = openssl(&["x509", "-in", &path("leaf.pem"), "-noout", "-text"]);
    assert!(text.contains("Version: 3"), "{text}");
    assert!(text.contains("CN=Test Subscriber") || text.contains("CN = Test Subscriber"), "{text}");
    assert!(text.contains("Digital Signature, Non Repudiation"), "{text}");
    assert!(text.contains("email:subscriber@example.com"), "{text}");
    assert!(text.contains("CA:FALSE"), "{text}");
    // The certificate's public key is the subscriber's key's.
    let (_, from_cert) = openssl(&["x509", "-in", &path("leaf.pem"), "-noout", "-pubkey"]);
    let (_, from_key) = openssl(&["pkey", "-in", &path("key.pem"), "-pubout"]);
    assert!(from_cert.contains("BEGIN PUBLIC KEY") && from_cert == from_key, "{from_cert} vs {from_key}");
    // Status: good, then revoked; an unknown serial is unknown.
    assert_eq!(authority::status(&w.services, &issued.serial).await.unwrap().unwrap().status, CertificateStatus::Good);
    authority::revoke(&w.services, &issued.serial).await.unwrap();
    assert_eq!(
        authority::status(&w.services, &issued.serial).await.unwrap().unwrap().status,
        CertificateStatus::Revoked
    );
    assert!(authority::status(&w.services, "00ff").await.unwrap().is_none());
    // The authority is made once: the same certificate afterwards.
    assert_eq!(authority::authority(&w.services).await.unwrap().certificate, authority.certificate);
}
