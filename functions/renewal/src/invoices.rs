//! Invoices and receipts, as JSON and PDF, for whoever may read them.

use crate::pdf;
use crate::views::{amounts_view, buyer_view, BuyerView, InvoiceDraft};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use signet_shared::domain::billing::catalogue::{self};
use signet_shared::domain::billing::renewal::{self, Invoice, PaymentMode, Settlement};
use signet_shared::web::auth::Authenticated;
use signet_shared::web::json;
use signet_shared::{Error, ErrorCode, Result, Services};

/// An invoice I may read (I ordered it, or I administer or receive the invoices of the
/// space it is issued to), or not found.
pub(crate) async fn readable_invoice(
    services: &Services,
    claims: &signet_shared::domain::sessions::access_token::AccessClaims,
    number: &str,
) -> Result<Invoice> {
    let not_found = || Error::new(ErrorCode::NotFound).field("number");
    if number.len() > 32 || !number.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(not_found());
    }
    let invoice = renewal::load_invoice(services, number).await?.ok_or_else(not_found)?;
    if !renewal::may_read(services, &claims.sub, &claims.space, &invoice).await? {
        return Err(not_found());
    }
    Ok(invoice)
}

#[derive(Serialize)]
pub(crate) struct InvoiceJson {
    number: String,
    issued_at: i64,
    seller: catalogue::Seller,
    buyer: BuyerView,
    subscription_id: String,
    term_end: i64,
    payment_mode: PaymentMode,
    settlement: Settlement,
    terms_version: String,
    #[serde(flatten)]
    amounts: InvoiceDraft,
}

pub(crate) async fn invoice_json(
    State(services): State<Services>,
    Authenticated(claims, _): Authenticated,
    Path(number): Path<String>,
) -> Result<Response> {
    let i = readable_invoice(&services, &claims, &number).await?;
    Ok(json(
        StatusCode::OK,
        &InvoiceJson {
            amounts: amounts_view(&i.amounts, i.locale),
            buyer: buyer_view(&i.buyer),
            number: i.number,
            issued_at: i.issued_at,
            seller: i.seller,
            subscription_id: i.subscription_id,
            term_end: i.term_end,
            payment_mode: i.mode,
            settlement: i.settlement,
            terms_version: i.terms.version,
        },
    ))
}

pub(crate) fn pdf_response(bytes: Vec<u8>, file: &str) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    let mut response = (StatusCode::OK, bytes).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    response.headers_mut().insert(header::CONTENT_DISPOSITION, disposition);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(crate) async fn invoice_pdf(
    State(services): State<Services>,
    Authenticated(claims, _): Authenticated,
    Path(number): Path<String>,
) -> Result<Response> {
    let i = readable_invoice(&services, &claims, &number).await?;
    Ok(pdf_response(pdf::invoice(&i), &format!("invoice-{}.pdf", i.number)))
}

#[derive(Serialize)]
pub(crate) struct ReceiptJson {
    invoice_number: String,
    paid_at: i64,
    amount: String,
    currency: String,
    reference: String,
    buyer: BuyerView,
    description: Vec<String>,
    term_end: i64,
}

/// The receipt of a paid invoice (an organisation's invoice has none until it is paid).
pub(crate) fn receipt_of(i: &Invoice) -> Result<(i64, &str)> {
    match &i.settlement {
        Settlement::Paid { paid_at, reference } => Ok((*paid_at, reference.as_str())),
        Settlement::Due { .. } => {
            Err(Error::new(ErrorCode::NotFound).field("number").detail("no receipt: the invoice is payable on terms"))
        }
    }
}

pub(crate) async fn receipt_json(
    State(services): State<Services>,
    Authenticated(claims, _): Authenticated,
    Path(number): Path<String>,
) -> Result<Response> {
    let i = readable_invoice(&services, &claims, &number).await?;
    let (paid_at, reference) = receipt_of(&i)?;
    Ok(json(
        StatusCode::OK,
        &ReceiptJson {
            invoice_number: i.number.clone(),
            paid_at,
            amount: catalogue::format_amount(i.amounts.total),
            currency: i.amounts.currency.clone(),
            reference: reference.to_owned(),
            buyer: buyer_view(&i.buyer),
            description: i.amounts.lines.iter().map(|l| l.description.pick(i.locale).to_owned()).collect(),
            term_end: i.term_end,
        },
    ))
}

pub(crate) async fn receipt_pdf(
    State(services): State<Services>,
    Authenticated(claims, _): Authenticated,
    Path(number): Path<String>,
) -> Result<Response> {
    let i = readable_invoice(&services, &claims, &number).await?;
    let (paid_at, reference) = receipt_of(&i)?;
    Ok(pdf_response(pdf::receipt(&i, paid_at, reference), &format!("receipt-{}.pdf", i.number)))
}

#[derive(Serialize)]
pub(crate) struct InvoiceSummary {
    number: String,
    issued_at: i64,
    subscription_id: String,
    payment_mode: PaymentMode,
    settlement: Settlement,
    total: String,
    currency: String,
}

#[derive(Serialize)]
pub(crate) struct SpaceInvoices {
    space_id: String,
    invoices: Vec<InvoiceSummary>,
}

/// The invoices issued to the space I act for: its billing contact's (an organisation's),
/// or the owner's (a personal space); `role_required` for anyone else.
pub(crate) async fn space_invoices(
    State(services): State<Services>,
    Authenticated(claims, _): Authenticated,
) -> Result<Response> {
    let membership = services
        .store
        .get(&signet_shared::domain::keys::membership(&claims.sub, &claims.space))
        .await?
        .ok_or_else(|| Error::new(ErrorCode::NotFound).field("space"))?
        .decode()?;
    if !renewal::may_read_space_invoices(&membership) {
        return Err(Error::new(ErrorCode::RoleRequired));
    }
    let invoices = renewal::space_invoices(&services, &claims.space).await?;
    let invoices = invoices
        .into_iter()
        .map(|i| {
            let amounts = amounts_view(&i.amounts, i.locale);
            InvoiceSummary {
                number: i.number,
                issued_at: i.issued_at,
                subscription_id: i.subscription_id,
                payment_mode: i.mode,
                settlement: i.settlement,
                total: amounts.total,
                currency: amounts.currency,
            }
        })
        .collect();
    Ok(json(StatusCode::OK, &SpaceInvoices { space_id: claims.space, invoices }))
}
