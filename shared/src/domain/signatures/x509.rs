//! X.509 v3 certificates for P-256 keys, encoded by hand in DER (RFC 5280): the few
//! structures the certificate authority needs — a name, a validity, extensions, the
//! to-be-signed part and the signed certificate. The signature itself comes from the
//! authority's signer (KMS `Sign`, or a local key), which is why the two halves are apart.

/// An object identifier, as its arcs.
pub type Oid = &'static [u64];

/// id-ecPublicKey.
pub const EC_PUBLIC_KEY: Oid = &[1, 2, 840, 10045, 2, 1];
/// prime256v1 (P-256).
pub const P256: Oid = &[1, 2, 840, 10045, 3, 1, 7];
/// ecdsa-with-SHA256.
pub const ECDSA_WITH_SHA256: Oid = &[1, 2, 840, 10045, 4, 3, 2];
/// commonName.
pub const COMMON_NAME: Oid = &[2, 5, 4, 3];
/// organizationName.
pub const ORGANIZATION: Oid = &[2, 5, 4, 10];
/// countryName.
pub const COUNTRY: Oid = &[2, 5, 4, 6];
const SUBJECT_KEY_ID: Oid = &[2, 5, 29, 14];
const KEY_USAGE: Oid = &[2, 5, 29, 15];
const SUBJECT_ALT_NAME: Oid = &[2, 5, 29, 17];
const BASIC_CONSTRAINTS: Oid = &[2, 5, 29, 19];
const AUTHORITY_KEY_ID: Oid = &[2, 5, 29, 35];

/// A tag, a length, the content.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE of already-encoded parts.
pub fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// A non-negative INTEGER from big-endian bytes.
pub fn integer(bytes: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = if trimmed.is_empty() { vec![0] } else { trimmed };
    if content[0] & 0x80 != 0 {
        content.insert(0, 0);
    }
    tlv(0x02, &content)
}

/// An OBJECT IDENTIFIER.
pub fn oid(arcs: Oid) -> Vec<u8> {
    let mut content = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for &arc in &arcs[2..] {
        let mut chunk = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            chunk.insert(0, 0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        content.extend(chunk);
    }
    tlv(0x06, &content)
}

/// A BIT STRING with no unused bits.
pub fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = vec![0];
    content.extend_from_slice(bytes);
    tlv(0x03, &content)
}

/// An OCTET STRING.
pub fn octet_string(bytes: &[u8]) -> Vec<u8> {
    tlv(0x04, bytes)
}

/// A time: UTCTime until 2049, GeneralizedTime after (RFC 5280 4.1.2.5).
pub fn time(unix: i64) -> Vec<u8> {
    let text = crate::domain::calendar::utc(unix);
    // "YYYY-MM-DD HH:MM" → digits; seconds from the timestamp.
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let seconds = unix.rem_euclid(60);
    let year: i64 = digits[..4].parse().unwrap_or(1970);
    if year < 2050 {
        tlv(0x17, format!("{}{seconds:02}Z", &digits[2..]).as_bytes())
    } else {
        tlv(0x18, format!("{digits}{seconds:02}Z").as_bytes())
    }
}

/// A distinguished name of attributes (each its own RDN), UTF8String values except the
/// country (PrintableString).
pub fn name(attributes: &[(Oid, &str)]) -> Vec<u8> {
    let rdns: Vec<Vec<u8>> = attributes
        .iter()
        .map(|(kind, value)| {
            let tag = if *kind == COUNTRY { 0x13 } else { 0x0c };
            tlv(0x31, &sequence(&[&oid(kind), &tlv(tag, value.as_bytes())]))
        })
        .collect();
    let refs: Vec<&[u8]> = rdns.iter().map(Vec::as_slice).collect();
    sequence(&refs)
}

/// The SubjectPublicKeyInfo of an uncompressed P-256 point.
pub fn p256_spki(point: &[u8]) -> Vec<u8> {
    sequence(&[&sequence(&[&oid(EC_PUBLIC_KEY), &oid(P256)]), &bit_string(point)])
}

fn extension(kind: Oid, critical: bool, value: &[u8]) -> Vec<u8> {
    if critical {
        sequence(&[&oid(kind), &tlv(0x01, &[0xff]), &octet_string(value)])
    } else {
        sequence(&[&oid(kind), &octet_string(value)])
    }
}

/// A key identifier: the first 20 bytes of the SHA-256 of the SubjectPublicKeyInfo.
pub fn key_id(spki: &[u8]) -> Vec<u8> {
    crate::domain::crypto::digest(&[spki])[..20].to_vec()
}

/// What a certificate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// The issuing authority: may sign certificates and revocation lists.
    Authority,
    /// A subscriber's signing key: digital signature and non-repudiation only.
    Signing,
}

/// The parts of a certificate to sign.
#[derive(Debug, Clone)]
pub struct ToBeSigned<'a> {
    /// Serial number (big-endian, positive, at most 20 bytes).
    pub serial: &'a [u8],
    /// Issuer name (DER).
    pub issuer: &'a [u8],
    /// Subject name (DER).
    pub subject: &'a [u8],
    /// Validity start (unix seconds).
    pub not_before: i64,
    /// Validity end (unix seconds).
    pub not_after: i64,
    /// The subject's public key (SubjectPublicKeyInfo DER).
    pub spki: &'a [u8],
    /// The issuer's public key (for the authority key identifier).
    pub issuer_spki: &'a [u8],
    /// What it is for.
    pub profile: Profile,
    /// An email address for the subject alternative name.
    pub email: Option<&'a str>,
}

/// The DER of the TBSCertificate.
pub fn tbs_certificate(parts: &ToBeSigned<'_>) -> Vec<u8> {
    let algorithm = sequence(&[&oid(ECDSA_WITH_SHA256)]);
    let validity = sequence(&[&time(parts.not_before), &time(parts.not_after)]);
    let mut extensions = Vec::new();
    match parts.profile {
        Profile::Authority => {
            extensions.push(extension(BASIC_CONSTRAINTS, true, &sequence(&[&tlv(0x01, &[0xff])])));
            // keyCertSign (bit 5) and cRLSign (bit 6): one unused bit.
            extensions.push(extension(KEY_USAGE, true, &tlv(0x03, &[0x01, 0x06])));
        }
        Profile::Signing => {
            extensions.push(extension(BASIC_CONSTRAINTS, true, &sequence(&[])));
            // digitalSignature (bit 0) and nonRepudiation (bit 1): six unused bits.
            extensions.push(extension(KEY_USAGE, true, &tlv(0x03, &[0x06, 0xc0])));
        }
    }
    extensions.push(extension(SUBJECT_KEY_ID, false, &octet_string(&key_id(parts.spki))));
    extensions.push(extension(AUTHORITY_KEY_ID, false, &sequence(&[&tlv(0x80, &key_id(parts.issuer_spki))])));
    if let Some(email) = parts.email {
        extensions.push(extension(SUBJECT_ALT_NAME, false, &sequence(&[&tlv(0x81, email.as_bytes())])));
    }
    let extension_refs: Vec<&[u8]> = extensions.iter().map(Vec::as_slice).collect();
    let extensions = tlv(0xa3, &sequence(&extension_refs));
    let version = tlv(0xa0, &integer(&[2]));
    sequence(&[
        &version,
        &integer(parts.serial),
        &algorithm,
        parts.issuer,
        &validity,
        parts.subject,
        parts.spki,
        &extensions,
    ])
}

/// The signed certificate: the TBSCertificate, the algorithm, the DER ECDSA signature.
pub fn certificate(tbs: &[u8], signature: &[u8]) -> Vec<u8> {
    sequence(&[tbs, &sequence(&[&oid(ECDSA_WITH_SHA256)]), &bit_string(signature)])
}

/// PEM armour (`CERTIFICATE`, `PRIVATE KEY`…).
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = text.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_primitives_encode_as_the_standard_says() {
        assert_eq!(oid(ECDSA_WITH_SHA256), [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]);
        assert_eq!(integer(&[0x80]), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(integer(&[0x00, 0x01]), [0x02, 0x01, 0x01]);
        assert_eq!(tlv(0x04, &[0; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(tlv(0x04, &[0; 300])[..4], [0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(time(0), tlv(0x17, b"700101000000Z"));
        assert_eq!(time(2_524_607_999), tlv(0x17, b"491231235959Z"));
        assert_eq!(time(2_524_608_000), tlv(0x18, b"20500101000000Z"));
    }
}
