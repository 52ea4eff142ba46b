//! The two languages of the portal and how a request picks one.

use serde::{Deserialize, Serialize};

/// A user-facing language. French and English are the languages of the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    /// French.
    Fr,
    /// English (the default when nothing else is known).
    #[default]
    En,
}

impl Locale {
    /// The first supported language of an `Accept-Language` header, by quality order.
    pub fn from_accept_language(header: Option<&str>) -> Option<Locale> {
        let header = header?;
        let mut best: Option<(f32, Locale)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality =
                pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
            let locale = if tag == "fr" || tag.starts_with("fr-") {
                Locale::Fr
            } else if tag == "en" || tag.starts_with("en-") {
                Locale::En
            } else {
                continue;
            };
            if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, locale));
            }
        }
        best.map(|(_, l)| l)
    }

    /// The language tag, for `Content-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::Fr => "fr",
            Locale::En => "en",
        }
    }

    /// Picks the French or the English text.
    pub fn pick<'a>(self, fr: &'a str, en: &'a str) -> &'a str {
        match self {
            Locale::Fr => fr,
            Locale::En => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_prefers_the_highest_quality_supported_tag() {
        assert_eq!(Locale::from_accept_language(Some("fr-CA,fr;q=0.9,en;q=0.8")), Some(Locale::Fr));
        assert_eq!(Locale::from_accept_language(Some("de, en;q=0.5, fr;q=0.7")), Some(Locale::Fr));
        assert_eq!(Locale::from_accept_language(Some("de")), None);
        assert_eq!(Locale::from_accept_language(Some("en-US")), Some(Locale::En));
        assert_eq!(Locale::from_accept_language(None), None);
    }
}
