//! The product catalogue and the taxes of a sale (issue 6, first part): amounts are integer
//! cents, rates exact decimals, and each tax is rounded half-up to the cent on the pre-tax
//! amount (Québec: GST 5 % and QST 9.975 %; France: VAT 20 %; an EU business with a VAT
//! number: reverse charge at 0 % with the legal mention; other places as the catalogue says).
//!
//! The catalogue is `catalogue/catalogue.json`, compiled in and parsed once at start: a bad
//! catalogue is a start-up error naming what is wrong.

use crate::domain::signatures::subscription::Product;
use crate::locale::Locale;
use serde::Deserialize;
use std::collections::BTreeMap;

use crate::ports::payments::Cents;

/// A name in French and English.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Names {
    /// French.
    pub fr: String,
    /// English.
    pub en: String,
}

impl Names {
    /// The name in a language.
    pub fn pick(&self, locale: Locale) -> &str {
        locale.pick(&self.fr, &self.en)
    }
}

/// A product of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// Stable code.
    pub code: String,
    /// Names.
    pub name: Names,
    /// What it is (`cloud_signature`).
    pub kind: Product,
    /// Term in months.
    pub term_months: u32,
    /// Price per currency (ISO 4217), in cents.
    pub prices: BTreeMap<String, Cents>,
}

/// One tax of a jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tax {
    /// Stable code (`GST`, `QST`, `VAT`…).
    pub code: String,
    /// Names.
    pub name: Names,
    /// Rate in millionths (9.975 % = 99 750).
    pub rate_ppm: i64,
    /// The rate as written (`9.975`).
    pub rate_text: String,
}

/// The catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    /// Products by code.
    pub products: BTreeMap<String, Offer>,
    /// Taxes by jurisdiction (`CA-QC`, `CA`, `FR`…): the most precise key applies.
    pub taxes: BTreeMap<String, Vec<Tax>>,
    /// The seller's country for reverse charge.
    pub seller_country: String,
    /// The reverse-charge mention.
    pub reverse_charge_mention: Names,
    /// Who sells, as invoices print it.
    pub seller: Seller,
    /// The currency a buyer's country pays in (`*` for every other country).
    pub currencies: BTreeMap<String, String>,
}

/// The seller printed on invoices.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Seller {
    /// Name.
    pub name: String,
    /// Address lines.
    pub address: Vec<String>,
    /// Tax registrations printed on invoices (GST/HST, QST, VAT numbers): every tax the
    /// catalogue charges needs one (an invoice that charges a tax must name the seller's
    /// number for it), else the catalogue is refused at start.
    #[serde(default)]
    pub registrations: Vec<Registration>,
}

/// A tax registration of the seller.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// What it is (`No TPS` / `GST No.`).
    pub label: Names,
    /// The number.
    pub number: String,
    /// The tax codes it registers the seller for (`GST`, `HST`, `QST`, `VAT`…).
    pub taxes: Vec<String>,
    /// A placeholder that shows where the number goes (the shipped demo catalogue's): a
    /// deployment refuses to invoice with it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub example: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    version: u32,
    seller: Seller,
    currencies: BTreeMap<String, String>,
    products: Vec<RawProduct>,
    taxes: BTreeMap<String, Vec<RawTax>>,
    reverse_charge: RawReverseCharge,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProduct {
    code: String,
    name: Names,
    kind: Product,
    term_months: u32,
    prices: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTax {
    code: String,
    name: Names,
    rate: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReverseCharge {
    seller_country: String,
    mention: Names,
}

/// The shipped catalogue's text.
pub const SHIPPED: &str = include_str!("../../../../catalogue/catalogue.json");

/// Parses a decimal amount (`100.00`, `69`) into cents; at most two decimals, non-negative.
pub fn parse_amount(text: &str) -> Option<Cents> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 2
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || whole.len() > 12
    {
        return None;
    }
    let cents = format!("{fraction:0<2}");
    Some(whole.parse::<i64>().ok()? * 100 + cents.parse::<i64>().ok()?)
}

/// Parses a percentage (`9.975`) into millionths of the amount (99 750); at most 4 decimals.
pub fn parse_rate(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || whole.len() > 3
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 4
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let rate = whole.parse::<i64>().ok()? * 10_000 + format!("{fraction:0<4}").parse::<i64>().ok()?;
    (rate <= 1_000_000).then_some(rate)
}

/// `amount × rate`, rounded half-up to the cent (amounts are never negative here).
pub fn tax_of(amount: Cents, rate_ppm: i64) -> Cents {
    let product = i128::from(amount) * i128::from(rate_ppm);
    ((product + 500_000) / 1_000_000) as Cents
}

/// Cents as `114.98`.
pub fn format_amount(cents: Cents) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

impl Catalogue {
    /// Parses and checks a catalogue; the error names what is wrong.
    pub fn parse(text: &str) -> Result<Catalogue, String> {
        let raw: RawCatalogue = serde_json::from_str(text).map_err(|e| format!("catalogue: {e}"))?;
        if raw.version != 1 {
            return Err(format!("catalogue: version {} is not supported", raw.version));
        }
        let mut products = BTreeMap::new();
        for p in raw.products {
            if p.code.is_empty() || p.name.fr.trim().is_empty() || p.name.en.trim().is_empty() {
                return Err(format!("catalogue: product {:?} needs a code and both names", p.code));
            }
            if p.term_months == 0 || p.term_months > 120 {
                return Err(format!("catalogue: product {} has a term of {} months", p.code, p.term_months));
            }
            if p.prices.is_empty() {
                return Err(format!("catalogue: product {} has no price", p.code));
            }
            let mut prices = BTreeMap::new();
            for (currency, price) in &p.prices {
                if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
                    return Err(format!(
                        "catalogue: product {} has a price in {currency:?}, not an ISO 4217 code",
                        p.code
                    ));
                }
                let cents = parse_amount(price)
                    .ok_or_else(|| format!("catalogue: product {} has a price {price:?} in {currency}", p.code))?;
                prices.insert(currency.clone(), cents);
            }
            let code = p.code.clone();
            let product = Offer { code: p.code, name: p.name, kind: p.kind, term_months: p.term_months, prices };
            if products.insert(code.clone(), product).is_some() {
                return Err(format!("catalogue: product {code} is listed twice"));
            }
        }
        if products.is_empty() {
            return Err("catalogue: no product".into());
        }
        let mut taxes = BTreeMap::new();
        for (place, list) in raw.taxes {
            let mut parsed = Vec::new();
            for t in list {
                let rate_ppm = parse_rate(&t.rate)
                    .ok_or_else(|| format!("catalogue: tax {} of {place} has a rate {:?}", t.code, t.rate))?;
                parsed.push(Tax { code: t.code, name: t.name, rate_ppm, rate_text: t.rate });
            }
            taxes.insert(place, parsed);
        }
        // A tax charged without the seller's registration number for it would make invoices
        // that are not valid tax invoices (Canada's GST/HST and Québec's QST, EU VAT).
        for (place, list) in &taxes {
            for tax in list.iter().filter(|t| t.rate_ppm > 0) {
                let registered =
                    raw.seller.registrations.iter().any(|r| r.taxes.contains(&tax.code) && !r.number.trim().is_empty());
                if !registered {
                    return Err(format!("catalogue: tax {} of {place} is charged but the seller has no registration number for it (seller.registrations[].taxes)", tax.code));
                }
            }
        }
        if !raw.currencies.contains_key("*") {
            return Err("catalogue: currencies needs a \"*\" entry for the other countries".into());
        }
        for (country, currency) in &raw.currencies {
            if !products.values().all(|p| p.prices.contains_key(currency)) {
                return Err(format!("catalogue: {country} pays in {currency}, which some product has no price in"));
            }
        }
        Ok(Catalogue {
            products,
            taxes,
            seller_country: raw.reverse_charge.seller_country,
            reverse_charge_mention: raw.reverse_charge.mention,
            seller: raw.seller,
            currencies: raw.currencies,
        })
    }

    /// Whether some registration of the seller is a placeholder (see [`Registration::example`]).
    pub fn has_example_registrations(&self) -> bool {
        self.seller.registrations.iter().any(|r| r.example)
    }

    /// The shipped catalogue (parsed once; a start-up error if it is bad).
    pub fn shipped() -> Result<&'static Catalogue, String> {
        static CATALOGUE: std::sync::OnceLock<Result<Catalogue, String>> = std::sync::OnceLock::new();
        CATALOGUE.get_or_init(|| Catalogue::parse(SHIPPED)).as_ref().map_err(Clone::clone)
    }
}

/// Who buys, for taxes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxBuyer {
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// Region code (a Canadian province: `QC`, `ON`…), if any.
    pub region: Option<String>,
    /// An EU VAT number (a business), if any.
    pub vat_number: Option<String>,
}

/// The member states of the European Union (for reverse charge).
const EU: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV",
    "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// The shapes of EU VAT numbers after the country prefix: `d` a digit, `a` a letter, `x`
/// either, other letters themselves (the Commission's VIES formats).
const VAT_FORMATS: &[(&str, &[&str])] = &[
    ("AT", &["Udddddddd"]),
    ("BE", &["dddddddddd"]),
    ("BG", &["ddddddddd", "dddddddddd"]),
    ("CY", &["dddddddda"]),
    ("CZ", &["dddddddd", "ddddddddd", "dddddddddd"]),
    ("DE", &["ddddddddd"]),
    ("DK", &["dddddddd"]),
    ("EE", &["ddddddddd"]),
    ("ES", &["xdddddddx"]),
    ("FI", &["dddddddd"]),
    ("FR", &["xxddddddddd"]),
    ("GR", &["ddddddddd"]),
    ("HR", &["ddddddddddd"]),
    ("HU", &["dddddddd"]),
    ("IE", &["ddddddda", "dddddddaa", "dxddddda"]),
    ("IT", &["ddddddddddd"]),
    ("LT", &["ddddddddd", "dddddddddddd"]),
    ("LU", &["dddddddd"]),
    ("LV", &["ddddddddddd"]),
    ("MT", &["dddddddd"]),
    ("NL", &["dddddddddBdd"]),
    ("PL", &["dddddddddd"]),
    ("PT", &["ddddddddd"]),
    ("RO", &["dd", "ddd", "dddd", "ddddd", "dddddd", "ddddddd", "dddddddd", "ddddddddd", "dddddddddd"]),
    ("SE", &["dddddddddddd"]),
    ("SI", &["dddddddd"]),
    ("SK", &["dddddddddd"]),
];

/// Whether a VAT number has its country's format (prefix, length, digits and letters where
/// they go). Whether it is registered needs VIES, over the network: not checked here.
pub fn vat_number_shape_ok(number: &str, country: &str) -> bool {
    let cleaned: String = number
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '.' && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    let prefix = if country == "GR" { "EL" } else { country };
    let Some(rest) = cleaned.strip_prefix(prefix) else { return false };
    let Some((_, formats)) = VAT_FORMATS.iter().find(|(c, _)| *c == country) else { return false };
    formats.iter().any(|f| {
        f.len() == rest.len()
            && f.bytes().zip(rest.bytes()).all(|(p, b)| match p {
                b'd' => b.is_ascii_digit(),
                b'a' => b.is_ascii_uppercase(),
                b'x' => b.is_ascii_alphanumeric(),
                literal => b == literal,
            })
    })
}

/// A tax line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxLine {
    /// The tax's code.
    pub code: String,
    /// Its rate as written.
    pub rate: String,
    /// On what (cents).
    pub base: Cents,
    /// How much (cents).
    pub amount: Cents,
}

/// The taxes of a sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taxes {
    /// The lines (none under reverse charge or where no tax is configured).
    pub lines: Vec<TaxLine>,
    /// Pre-tax total.
    pub subtotal: Cents,
    /// Total with taxes.
    pub total: Cents,
    /// The reverse-charge mention, when it applies.
    pub reverse_charge: bool,
}

impl Catalogue {
    /// The currency a buyer in `country` pays in.
    pub fn currency_for(&self, country: &str) -> &str {
        self.currencies.get(country).or_else(|| self.currencies.get("*")).map(String::as_str).unwrap_or("EUR")
    }

    /// The names of a tax code of a jurisdiction's list (for printing).
    pub fn tax_names(&self, code: &str) -> Names {
        self.taxes
            .values()
            .flatten()
            .find(|t| t.code == code)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| Names { fr: code.to_owned(), en: code.to_owned() })
    }

    /// The taxes on `subtotal` for `buyer`, each rounded half-up to the cent on the pre-tax
    /// amount.
    pub fn taxes(&self, buyer: &TaxBuyer, subtotal: Cents) -> Taxes {
        let eu_business_abroad = buyer.country != self.seller_country
            && EU.contains(&buyer.country.as_str())
            && buyer.vat_number.as_deref().is_some_and(|n| vat_number_shape_ok(n, &buyer.country));
        if eu_business_abroad {
            return Taxes { lines: Vec::new(), subtotal, total: subtotal, reverse_charge: true };
        }
        let precise = buyer.region.as_ref().map(|r| format!("{}-{}", buyer.country, r));
        let list = precise.and_then(|k| self.taxes.get(&k)).or_else(|| self.taxes.get(&buyer.country));
        let lines: Vec<TaxLine> = list
            .map(|taxes| {
                taxes
                    .iter()
                    .map(|t| TaxLine {
                        code: t.code.clone(),
                        rate: t.rate_text.clone(),
                        base: subtotal,
                        amount: tax_of(subtotal, t.rate_ppm),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let total = subtotal + lines.iter().map(|l| l.amount).sum::<Cents>();
        Taxes { lines, subtotal, total, reverse_charge: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buyer(country: &str, region: Option<&str>, vat: Option<&str>) -> TaxBuyer {
        TaxBuyer { country: country.into(), region: region.map(Into::into), vat_number: vat.map(Into::into) }
    }

    #[test]
    fn the_shipped_catalogue_parses() {
        let c = Catalogue::shipped().unwrap();
        assert_eq!(c.products["CLOUD-SIG-1Y"].prices["CAD"], 10_000);
        assert_eq!(c.products["CLOUD-SIG-3Y"].term_months, 36);
    }

    #[test]
    fn quebec_gst_and_qst_round_half_up_each_on_the_pre_tax_amount() {
        let c = Catalogue::shipped().unwrap();
        let t = c.taxes(&buyer("CA", Some("QC"), None), 10_000);
        assert_eq!(
            t.lines.iter().map(|l| (l.code.as_str(), l.amount)).collect::<Vec<_>>(),
            [("GST", 500), ("QST", 998)]
        );
        assert_eq!(format_amount(t.total), "114.98");
        // 19.99: GST 0.9995 → 1.00; QST 1.99400… → 1.99.
        let t = c.taxes(&buyer("CA", Some("QC"), None), 1_999);
        assert_eq!(t.lines.iter().map(|l| l.amount).collect::<Vec<_>>(), [100, 199]);
        assert_eq!(t.total, 2_298);
        // 259.99: QST 25.934… → 25.93; GST 12.9995 → 13.00.
        let t = c.taxes(&buyer("CA", Some("QC"), None), 25_999);
        assert_eq!(t.lines.iter().map(|l| l.amount).collect::<Vec<_>>(), [1_300, 2_593]);
        // 0.10: QST 0.009975 → 0.01 (half-up at the half cent and above).
        assert_eq!(tax_of(10, 99_750), 1);
        assert_eq!(tax_of(10, 50_000), 1, "0.5 cent rounds up");
        assert_eq!(tax_of(9, 50_000), 0, "0.45 cent rounds down");
    }

    #[test]
    fn france_vat_reverse_charge_and_other_places() {
        let c = Catalogue::shipped().unwrap();
        let t = c.taxes(&buyer("FR", None, Some("FR40303265045")), 6_900);
        assert_eq!(
            (t.lines[0].amount, t.total, t.reverse_charge),
            (1_380, 8_280, false),
            "a French business pays French VAT"
        );
        let t = c.taxes(&buyer("DE", None, Some("DE 123 456 789")), 6_900);
        assert_eq!((t.lines.len(), t.total, t.reverse_charge), (0, 6_900, true));
        let t = c.taxes(&buyer("DE", None, Some("FR123")), 6_900);
        assert!(!t.reverse_charge, "a malformed VAT number is no reverse charge");
        for (number, country, ok) in [
            ("DE00", "DE", false),
            ("DE12345678", "DE", false),
            ("ATU12345678", "AT", true),
            ("AT12345678", "AT", false),
            ("NL123456789B01", "NL", true),
            ("EL123456789", "GR", true),
            ("ESX1234567Z", "ES", true),
            ("IE1234567WA", "IE", true),
            ("BE0123456789", "BE", true),
            ("FRAB123456789", "FR", true),
        ] {
            assert_eq!(vat_number_shape_ok(number, country), ok, "{number}");
        }
        let t = c.taxes(&buyer("CA", Some("ON"), None), 10_000);
        assert_eq!((t.lines[0].code.as_str(), t.total), ("HST", 11_300));
        let t = c.taxes(&buyer("CA", Some("AB"), None), 10_000);
        assert_eq!(
            (t.lines[0].code.as_str(), t.total),
            ("GST", 10_500),
            "the country's taxes when the region has none"
        );
        let t = c.taxes(&buyer("US", Some("NY"), None), 10_000);
        assert_eq!((t.lines.len(), t.total), (0, 10_000), "elsewhere: as configured (nothing)");
    }

    #[test]
    fn amounts_and_rates_parse_exactly() {
        assert_eq!(parse_amount("100.00"), Some(10_000));
        assert_eq!(parse_amount("69"), Some(6_900));
        assert_eq!(parse_amount("0.5"), Some(50));
        for bad in ["", "-1", "1.234", "1,00", "abc", ".5"] {
            assert_eq!(parse_amount(bad), None, "{bad}");
        }
        assert_eq!(parse_rate("9.975"), Some(99_750));
        assert_eq!(parse_rate("20"), Some(200_000));
        assert_eq!(parse_rate("101"), None);
        assert_eq!(parse_rate("1.23456"), None);
    }

    #[test]
    fn a_bad_catalogue_is_a_clear_error() {
        let cases: Vec<(String, &str)> = vec![
            (r#"{"version": 2, "seller": {"name": "S", "address": []}, "currencies": {"*": "EUR"}, "products": [], "taxes": {}, "reverse_charge": {"seller_country": "FR", "mention": {"fr": "a", "en": "b"}}}"#.to_owned(), "version 2"),
            (r#"{"version": 1, "seller": {"name": "S", "address": []}, "currencies": {"*": "EUR"}, "products": [], "taxes": {}, "reverse_charge": {"seller_country": "FR", "mention": {"fr": "a", "en": "b"}}}"#.to_owned(), "no product"),
            (SHIPPED.replacen("\"100.00\"", "\"100,00\"", 1), "CLOUD-SIG-1Y has a price"),
            (SHIPPED.replacen("\"9.975\"", "\"nine\"", 1), "tax QST of CA-QC"),
            (SHIPPED.replacen("\"term_months\": 12", "\"term_months\": 0", 1), "term of 0 months"),
            (SHIPPED.replacen("\"CAD\": \"100.00\"", "\"cad\": \"100.00\"", 1), "not an ISO 4217 code"),
            (SHIPPED.replacen("\"*\": \"EUR\"", "\"*\": \"USD\"", 1), "pays in USD"),
            (SHIPPED.replacen("\"taxes\": [\"QST\"]", "\"taxes\": []", 1), "tax QST of CA-QC is charged but the seller has no registration"),
            (SHIPPED.replacen("\"taxes\": [\"GST\", \"HST\"]", "\"taxes\": [\"GST\"]", 1), "tax HST of CA-ON is charged but the seller has no registration"),
        ];
        for (text, expected) in cases {
            let e = Catalogue::parse(&text).unwrap_err();
            assert!(e.contains(expected), "{e}");
        }
    }
}
