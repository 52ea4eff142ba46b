//! Invoices and receipts as PDF (pdf-writer): one A4 page in Helvetica, a standard font
//! every reader has (nothing embedded), with WinAnsi encoding for French text.

use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str};
use signet_shared::domain::billing::catalogue::format_amount;
use signet_shared::domain::billing::renewal::{Invoice, PaymentMode, Settlement};
use signet_shared::domain::calendar::{utc, utc_day as date};
use signet_shared::locale::Locale;

/// What WinAnsiEncoding (Windows-1252) puts at 0x80–0x9F (0x81, 0x8D, 0x8F, 0x90 and 0x9D
/// are unassigned).
const WIN_ANSI_HIGH: [(char, u8); 27] = [
    ('€', 0x80),
    ('‚', 0x82),
    ('ƒ', 0x83),
    ('„', 0x84),
    ('…', 0x85),
    ('†', 0x86),
    ('‡', 0x87),
    ('ˆ', 0x88),
    ('‰', 0x89),
    ('Š', 0x8a),
    ('‹', 0x8b),
    ('Œ', 0x8c),
    ('Ž', 0x8e),
    ('‘', 0x91),
    ('’', 0x92),
    ('“', 0x93),
    ('”', 0x94),
    ('•', 0x95),
    ('–', 0x96),
    ('—', 0x97),
    ('˜', 0x98),
    ('™', 0x99),
    ('š', 0x9a),
    ('›', 0x9b),
    ('œ', 0x9c),
    ('ž', 0x9e),
    ('Ÿ', 0x9f),
];

/// Text in WinAnsiEncoding: Latin-1 as is, the typographic characters Windows-1252 adds,
/// narrow spaces as spaces, `?` for the rest (a standard font has no other glyphs).
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '\u{202f}' | '\u{2009}' => 0xa0,
            _ => WIN_ANSI_HIGH.iter().find(|(w, _)| *w == c).map_or(b'?', |(_, b)| *b),
        })
        .collect()
}

/// Characters on a full-width line of 10-point Helvetica (A4 less margins), about.
const LINE_CHARS: usize = 90;

/// `text` cut into lines of at most `width` characters, at spaces where it can.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let mut word = word.to_owned();
        while word.chars().count() > width {
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            lines.push(head);
        }
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&word);
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// An amount as the language writes it (`114,98` / `114.98`).
fn money(cents: i64, currency: &str, locale: Locale) -> String {
    let text = format_amount(cents);
    match locale {
        Locale::Fr => format!("{} {currency}", text.replace('.', ",")),
        Locale::En => format!("{text} {currency}"),
    }
}

/// A page being written: lines of text top to bottom.
struct Page {
    content: Content,
    y: f32,
}

const LEFT: f32 = 56.0;

impl Page {
    fn new() -> Self {
        Page { content: Content::new(), y: 780.0 }
    }

    fn text(&mut self, x: f32, size: f32, bold: bool, text: &str) {
        self.content.begin_text();
        self.content.set_font(Name(if bold { b"F2" } else { b"F1" }), size);
        self.content.next_line(x, self.y);
        self.content.show(Str(&win_ansi(text)));
        self.content.end_text();
    }

    /// A full-width line, wrapped when it is too long.
    fn line(&mut self, size: f32, bold: bool, text: &str) {
        let width = (LINE_CHARS as f32 * 10.0 / size) as usize;
        for part in wrap(text, width) {
            self.text(LEFT, size, bold, &part);
            self.y -= size + 5.0;
        }
    }

    /// A row of columns at the given x positions.
    fn row(&mut self, size: f32, bold: bool, cells: &[(f32, &str)]) {
        for (x, text) in cells {
            self.text(*x, size, bold, text);
        }
        self.y -= size + 5.0;
    }

    fn gap(&mut self, points: f32) {
        self.y -= points;
    }

    fn rule(&mut self) {
        self.content.move_to(LEFT, self.y + 8.0);
        self.content.line_to(539.0, self.y + 8.0);
        self.content.stroke();
        self.gap(6.0);
    }

    fn finish(self, title: &str) -> Vec<u8> {
        let (catalog, tree, page, regular, bold, contents, info) =
            (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5), Ref::new(6), Ref::new(7));
        let mut pdf = Pdf::new();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree).kids([page]).count(1);
        let mut p = pdf.page(page);
        p.media_box(Rect::new(0.0, 0.0, 595.0, 842.0)).parent(tree).contents(contents);
        p.resources().fonts().pair(Name(b"F1"), regular).pair(Name(b"F2"), bold);
        drop(p);
        pdf.type1_font(regular).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
        pdf.type1_font(bold).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
        pdf.stream(contents, &self.content.finish());
        pdf.document_info(info).title(pdf_writer::TextStr(title)).producer(pdf_writer::TextStr("Signet"));
        pdf.finish()
    }
}

/// The header common to both documents: title, seller, buyer.
fn header(page: &mut Page, i: &Invoice, title: &str) {
    let l = i.locale;
    page.line(20.0, true, title);
    page.gap(6.0);
    page.line(11.0, true, &i.seller.name);
    for a in &i.seller.address {
        page.line(10.0, false, a);
    }
    // The seller's numbers for the taxes this invoice charges (and its VAT number under
    // reverse charge, where the buyer accounts for the VAT).
    let a = &i.amounts;
    let concerned = |r: &&signet_shared::domain::billing::catalogue::Registration| {
        r.taxes.iter().any(|t| {
            a.taxes.iter().any(|charged| charged.code == *t) || (a.reverse_charge_mention.is_some() && t == "VAT")
        })
    };
    for r in i.seller.registrations.iter().filter(concerned) {
        page.line(10.0, false, &format!("{} {}", r.label.pick(l), r.number));
    }
    page.gap(10.0);
    page.line(10.0, true, l.pick("Facturé à", "Bill to"));
    page.line(10.0, false, &i.buyer.name);
    page.line(10.0, false, &i.buyer.email);
    let place = match &i.buyer.region {
        Some(r) => format!("{r}, {}", i.buyer.country),
        None => i.buyer.country.clone(),
    };
    page.line(10.0, false, &place);
    if let Some(vat) = &i.buyer.vat_number {
        page.line(10.0, false, &format!("{} {vat}", l.pick("No TVA :", "VAT No.:")));
    }
    page.gap(10.0);
}

/// An invoice: number, dates, lines, taxes, totals, how it is settled.
pub fn invoice(i: &Invoice) -> Vec<u8> {
    let l = i.locale;
    let title = format!("{} {}", l.pick("Facture", "Invoice"), i.number);
    let mut page = Page::new();
    header(&mut page, i, &title);
    page.line(10.0, false, &format!("{} {}", l.pick("Date d'émission :", "Issued on:"), date(i.issued_at)));
    page.line(
        10.0,
        false,
        &format!("{} {}", l.pick("Abonnement renouvelé jusqu'au :", "Subscription renewed until:"), date(i.term_end)),
    );
    page.gap(12.0);
    amounts_table(&mut page, i);
    page.gap(8.0);
    settlement(&mut page, i);
    page.finish(&title)
}

/// The invoice's lines, taxes and totals.
fn amounts_table(page: &mut Page, i: &Invoice) {
    let (l, a) = (i.locale, &i.amounts);
    let columns = [LEFT, 330.0, 380.0, 470.0];
    page.row(
        10.0,
        true,
        &[
            (columns[0], l.pick("Description", "Description")),
            (columns[1], l.pick("Qté", "Qty")),
            (columns[2], l.pick("Prix unitaire", "Unit price")),
            (columns[3], l.pick("Montant", "Amount")),
        ],
    );
    page.rule();
    for line in &a.lines {
        let (qty, unit, amount) =
            (line.quantity.to_string(), money(line.unit_price, &a.currency, l), money(line.amount, &a.currency, l));
        page.row(
            10.0,
            false,
            &[
                (columns[0], &format!("{} ({})", line.description.pick(l), line.code)),
                (columns[1], &qty),
                (columns[2], &unit),
                (columns[3], &amount),
            ],
        );
    }
    page.rule();
    page.row(
        10.0,
        false,
        &[(columns[2], l.pick("Sous-total", "Subtotal")), (columns[3], &money(a.subtotal, &a.currency, l))],
    );
    for t in &a.taxes {
        let label = format!("{} ({} %)", t.name.pick(l), t.rate.replace('.', l.pick(",", ".")));
        page.row(10.0, false, &[(columns[2], &label), (columns[3], &money(t.amount, &a.currency, l))]);
    }
    page.row(11.0, true, &[(columns[2], "Total"), (columns[3], &money(a.total, &a.currency, l))]);
    page.gap(8.0);
    if let Some(mention) = &a.reverse_charge_mention {
        page.line(9.0, false, mention.pick(l));
    }
}

/// How the invoice is settled, and the terms it was bought under.
fn settlement(page: &mut Page, i: &Invoice) {
    let l = i.locale;
    match &i.settlement {
        Settlement::Paid { paid_at, reference } => {
            page.line(
                10.0,
                true,
                &format!(
                    "{} {} ({} {reference})",
                    l.pick("Payée par carte le", "Paid by card on"),
                    date(*paid_at),
                    l.pick("réf.", "ref.")
                ),
            );
        }
        Settlement::Due { due_at } => {
            page.line(
                10.0,
                true,
                &format!(
                    "{} {}",
                    l.pick("Payable par l'organisation au plus tard le", "Payable by the organisation by"),
                    date(*due_at)
                ),
            );
        }
    }
    if i.mode == PaymentMode::Organisation {
        page.line(
            9.0,
            false,
            l.pick(
                "Facturée à l'organisation à la demande d'un de ses membres.",
                "Invoiced to the organisation at the request of one of its members.",
            ),
        );
    }
    page.line(
        9.0,
        false,
        &format!(
            "{} {}",
            l.pick("Modalités d'achat acceptées, version", "Terms of sale accepted, version"),
            i.terms.version
        ),
    );
}

/// The receipt of a card payment.
pub fn receipt(i: &Invoice, paid_at: i64, reference: &str) -> Vec<u8> {
    let l = i.locale;
    let a = &i.amounts;
    let title = l.pick("Reçu de transaction", "Transaction receipt").to_owned();
    let mut page = Page::new();
    header(&mut page, i, &title);
    page.line(10.0, false, &format!("{} {}", l.pick("Facture :", "Invoice:"), i.number));
    page.line(10.0, false, &format!("{} {}", l.pick("Payé le :", "Paid on:"), utc(paid_at)));
    page.line(10.0, false, &format!("{} {reference}", l.pick("Référence du paiement :", "Payment reference:")));
    for line in &a.lines {
        page.line(10.0, false, &format!("{} ({})", line.description.pick(l), line.code));
    }
    page.line(12.0, true, &format!("{} {}", l.pick("Montant payé :", "Amount paid:"), money(a.total, &a.currency, l)));
    page.line(
        10.0,
        false,
        &format!("{} {}", l.pick("Abonnement renouvelé jusqu'au :", "Subscription renewed until:"), date(i.term_end)),
    );
    page.finish(&title)
}

#[cfg(test)]
mod tests {
    #[test]
    fn french_text_is_encoded_in_win_ansi() {
        assert_eq!(super::win_ansi("Facturé – 5 €"), b"Factur\xe9 \x96 5 \x80");
        assert_eq!(super::win_ansi("日"), b"?");
        assert_eq!(super::win_ansi("Œuvre, cœur, Ÿ, ™"), b"\x8cuvre, c\x9cur, \x9f, \x99");
    }

    #[test]
    fn long_text_is_wrapped_at_spaces() {
        assert_eq!(super::wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(super::wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(super::wrap("", 4), [""]);
        let long = "Example Organisation ".repeat(10);
        assert!(super::wrap(&long, 90).iter().all(|l| l.chars().count() <= 90));
        assert_eq!(super::money(11_498, "CAD", signet_shared::locale::Locale::Fr), "114,98 CAD");
    }
}
