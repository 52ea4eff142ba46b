//! The certificate authority's key on the embedded back end: a PKCS#8 P-256 key in a
//! 0600 file, in place of KMS.

use crate::domain::signatures::x509;
use crate::error::Result;
use crate::ports::{CaSigner, KeyError};
use async_trait::async_trait;

/// The local authority key of the embedded back end (a PKCS#8 P-256 key in a 0600 file).
pub struct LocalCaSigner {
    pair: aws_lc_rs::signature::EcdsaKeyPair,
}

impl LocalCaSigner {
    /// From a PKCS#8 document.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, String> {
        let pair = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            pkcs8,
        )
        .map_err(|e| format!("CA key: {e}"))?;
        Ok(LocalCaSigner { pair })
    }
}

#[async_trait]
impl CaSigner for LocalCaSigner {
    fn key_id(&self) -> String {
        "local".into()
    }

    async fn public_key(&self) -> Result<Vec<u8>, KeyError> {
        use aws_lc_rs::signature::KeyPair;
        Ok(x509::p256_spki(self.pair.public_key().as_ref()))
    }

    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.pair.sign(&rng, message).map(|s| s.as_ref().to_vec()).map_err(|e| KeyError(e.to_string()))
    }
}
