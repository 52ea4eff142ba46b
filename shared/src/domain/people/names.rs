//! Names of people (and later of organisations), as they reach emails, invoices and
//! certificates: NFC, 1 to 100 characters, letters and the usual punctuation and spaces.
//! Refused: control and format characters (among them the bidirectional controls that can
//! make a name read backwards, U+202A–202E and U+2066–2069, zero-width characters and tag
//! characters), line and paragraph separators, spaces other than the plain one, private-use
//! and unassigned code points, invisible fillers, variation selectors, and runs of more than
//! three combining marks (a stack of them can bury the text around).

use crate::{error::Error, error::ErrorCode, error::Result};
use icu_properties::props::GeneralCategory;
use icu_properties::CodePointMapData;

/// Longest name of a person, in characters (after NFC).
pub const MAX_CHARS: usize = 100;

/// Most combining marks in a row (Vietnamese or Devanagari need two or three).
const MAX_COMBINING_RUN: usize = 3;

/// Characters with a visible category that show as nothing (Hangul fillers, the braille
/// blank) or change the character before them (variation selectors).
fn invisible(c: char) -> bool {
    matches!(c, '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{2800}' | '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}' | '\u{180B}'..='\u{180F}')
}

/// A person's first or last name as typed, checked and in NFC; the error names `field`.
pub fn person_name(value: &str, field: &str) -> Result<String> {
    checked(value, field, MAX_CHARS)
}

/// A name of at most `max` characters (a person's, a company's on an invoice), checked and
/// in NFC: `invalid_name` when empty or too long, `name_characters_not_allowed` when it
/// holds a character refused above; the error names `field`.
pub fn checked(value: &str, field: &str, max: usize) -> Result<String> {
    let normal = icu_normalizer::ComposingNormalizerBorrowed::new_nfc().normalize(value.trim());
    let name = normal.trim();
    let length = name.chars().count();
    if length == 0 || length > max {
        return Err(Error::new(ErrorCode::InvalidName).field(field));
    }
    let categories = CodePointMapData::<GeneralCategory>::new();
    let mut combining = 0;
    for (i, c) in name.chars().enumerate() {
        let category = categories.get(c);
        let refused = match category {
            GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::PrivateUse
            | GeneralCategory::Surrogate
            | GeneralCategory::Unassigned => true,
            GeneralCategory::SpaceSeparator => c != ' ',
            _ => invisible(c),
        };
        let mark = matches!(
            category,
            GeneralCategory::NonspacingMark | GeneralCategory::SpacingMark | GeneralCategory::EnclosingMark
        );
        combining = if mark { combining + 1 } else { 0 };
        if refused || (mark && i == 0) || combining > MAX_COMBINING_RUN {
            return Err(Error::new(ErrorCode::NameCharactersNotAllowed).field(field));
        }
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(value: &str) -> Option<ErrorCode> {
        person_name(value, "first_name").err().map(|e| e.code)
    }

    #[test]
    fn real_names_are_kept_in_nfc() {
        for name in [
            "Émilie",
            "Jean-François",
            "O'Brien",
            "Nguyễn Thị Minh",
            "Zoë",
            "María José",
            "Łukasz",
            "Ægir",
            "張偉",
            "क्षत्रिय",
            "Ольга",
            "D'Arcy-Smith Jr.",
        ] {
            assert_eq!(person_name(name, "f").unwrap(), name, "{name}");
        }
        // Decomposed input is composed: the same name, the same bytes.
        assert_eq!(person_name("E\u{301}milie", "f").unwrap(), "Émilie");
        assert_eq!(person_name("  Zoë  ", "f").unwrap(), "Zoë");
    }

    #[test]
    fn invisible_control_and_direction_characters_are_refused() {
        let refused = [
            "Bob\u{202E}evilc",     // right-to-left override
            "Bob\u{2066}x\u{2069}", // isolates
            "Bo\u{200B}b",          // zero-width space
            "Bo\u{200D}b",          // zero-width joiner
            "Bob\u{FEFF}",          // byte-order mark
            "Bob\u{E0041}",         // tag character
            "Bob\u{2028}Smith",     // line separator
            "Bob\u{2029}Smith",     // paragraph separator (at the ends, whitespace is trimmed)
            "Bob\u{00AD}",          // soft hyphen
            "Bob\u{3164}",          // Hangul filler
            "Bob\u{00A0}Smith",     // no-break space
            "Bob\u{E000}",          // private use
            "Bob\u{FE0F}",          // variation selector
            "Bob\u{7}",             // control
            "Bob\nSmith",
            "\u{301}Bob", // a mark with nothing to carry it
            "Zalgo\u{300}\u{301}\u{302}\u{303}\u{304}",
        ];
        for name in refused {
            assert_eq!(code(name), Some(ErrorCode::NameCharactersNotAllowed), "{name:?}");
        }
    }

    #[test]
    fn empty_and_long_names_are_refused() {
        assert_eq!(code("   "), Some(ErrorCode::InvalidName));
        assert_eq!(code(&"a".repeat(101)), Some(ErrorCode::InvalidName));
        assert_eq!(code(&"a".repeat(100)), None);
    }
}
