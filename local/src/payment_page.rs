//! The local hosted payment page: what Stripe Checkout is to the deployed portal, the
//! local server is to the embedded back end. The card number is typed here and goes no
//! further: the page decides (a test card pays, another declines), then signs the outcome
//! with the webhook secret and delivers it to `POST /payments/webhook`, exactly as the
//! provider does. Only the local server serves it; no Lambda does.
//!
//! Test cards: 4242 4242 4242 4242 pays; 4000 0000 0000 0002 is declined.

use crate::escape;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, Request, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use signet_shared::adapters::local_payments::{LocalPayments, LocalSession, LOCAL_CARD_DECLINED, LOCAL_CARD_PAYS};
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::billing::catalogue::format_amount;
use signet_shared::Services;
use tower::ServiceExt;

#[derive(Clone)]
struct PageState {
    services: Services,
    /// The API, to deliver the webhook to.
    api: Router,
}

/// The page's routes. `api` is the finished API router the webhook is delivered to.
pub fn routes(services: Services, api: Router) -> Router {
    Router::new().route("/_pay/{session}", get(show).post(pay)).with_state(PageState { services, api })
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}}\
         label{{display:block;margin:.6rem 0}}input{{width:100%;padding:.4rem;font-size:1rem}}\
         button{{margin-top:1rem;padding:.5rem 1rem;font-size:1rem}}.note{{color:#555;font-size:.9rem}}</style></head>\
         <body><p class=\"note\">Local payment page (embedded back end): stands in for the payment provider's hosted page.</p>\
         <h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    );
    (status, Html(html)).into_response()
}

async fn session(state: &PageState, id: &str) -> Result<(signet_shared::ports::store::Item, LocalSession), Response> {
    let Some(local) = state.services.payments.as_any().downcast_ref::<LocalPayments>() else {
        return Err(page(
            StatusCode::NOT_FOUND,
            "No local payments",
            "<p>This server uses a real payment provider.</p>",
        ));
    };
    match local.session(id).await {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(page(StatusCode::NOT_FOUND, "Unknown payment", "<p>This payment session does not exist.</p>")),
        Err(e) => Err(e.into_response()),
    }
}

fn form(s: &LocalSession, error: Option<&str>) -> String {
    let amount = format!("{} {}", format_amount(s.request.amount), s.request.currency);
    format!(
        "<p>{}</p><p><strong>{}</strong></p>{}\
         <form method=\"post\"><input type=\"hidden\" name=\"action\" value=\"pay\">\
         <label>Card number <input name=\"card_number\" inputmode=\"numeric\" autocomplete=\"cc-number\" placeholder=\"4242 4242 4242 4242\"></label>\
         <label>Expiry (MM/YY) <input name=\"expiry\" autocomplete=\"cc-exp\" placeholder=\"12/30\"></label>\
         <label>Verification number (CVC) <input name=\"cvc\" autocomplete=\"cc-csc\" placeholder=\"123\"></label>\
         <button type=\"submit\">Pay {}</button></form>\
         <form method=\"post\"><input type=\"hidden\" name=\"action\" value=\"cancel\"><button type=\"submit\">Cancel</button></form>\
         <p class=\"note\">Test cards: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined.</p>",
        escape(&s.request.description),
        escape(&amount),
        error.map(|e| format!("<p role=\"alert\" style=\"color:#b00\">{}</p>", escape(e))).unwrap_or_default(),
        escape(&amount),
    )
}

/// A session past its time expires, as a provider's does, and the portal is told.
async fn expire_if_due(
    state: &PageState,
    item: &signet_shared::ports::store::Item,
    s: &mut LocalSession,
) -> Result<(), Response> {
    if s.status == "open" && state.services.now() >= s.request.expires_at {
        let local = state.services.payments.as_any().downcast_ref::<LocalPayments>().expect("checked by session()");
        s.status = "expired".into();
        local.update(item, s).await.map_err(IntoResponse::into_response)?;
        deliver(state, "checkout.session.expired", s).await;
    }
    Ok(())
}

async fn show(State(state): State<PageState>, Path(id): Path<String>) -> Response {
    let (item, mut s) = match session(&state, &id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    if let Err(r) = expire_if_due(&state, &item, &mut s).await {
        return r;
    }
    match s.status.as_str() {
        "open" => page(StatusCode::OK, "Pay", &form(&s, None)),
        "paid" => page(
            StatusCode::OK,
            "Paid",
            &format!(
                "<p>This payment is done.</p><p><a href=\"{}\">Back to the portal</a></p>",
                escape(&s.request.success_url)
            ),
        ),
        _ => page(StatusCode::GONE, "Expired", "<p>This payment session has expired.</p>"),
    }
}

/// `application/x-www-form-urlencoded` fields.
fn fields(body: &[u8]) -> Vec<(String, String)> {
    fn decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                        Ok(b) => {
                            out.push(b);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// Delivers the signed webhook of `event` to the API; whether it was accepted.
async fn deliver(state: &PageState, event: &str, s: &LocalSession) -> bool {
    let Some(local) = state.services.payments.as_any().downcast_ref::<LocalPayments>() else { return false };
    let (body, signature) = local.webhook(event, s, state.services.now());
    let mut request = Request::post("/payments/webhook")
        .header(header::CONTENT_TYPE, "application/json")
        .header("stripe-signature", signature)
        .body(Body::from(body))
        .expect("a well-formed request");
    request
        .extensions_mut()
        .insert(RequestContext { source_ip: "local-payment-page".into(), request_id: format!("pay-{}", s.id) });
    match state.api.clone().oneshot(request).await {
        Ok(response) if response.status().is_success() => true,
        Ok(response) => {
            tracing::warn!(status = %response.status(), event, "the payment webhook was not accepted");
            false
        }
        Err(_) => false,
    }
}

/// A press of Pay on a session already paid: the same answer as the press that paid it
/// (the return to the portal), delivering the notification again if it was not accepted
/// (the portal fulfils a payment once, however often it is told).
async fn already_paid(state: &PageState, item: &signet_shared::ports::store::Item, mut s: LocalSession) -> Response {
    let local = state.services.payments.as_any().downcast_ref::<LocalPayments>().expect("checked by session()");
    if !s.delivered && deliver(state, "checkout.session.completed", &s).await {
        s.delivered = true;
        let _ = local.update(item, &s).await;
    }
    if s.delivered {
        Redirect::to(&s.request.success_url).into_response()
    } else {
        page(
            StatusCode::BAD_GATEWAY,
            "Paid",
            "<p>Your payment is taken, but the portal has not acknowledged it yet. Press Pay again to notify it.</p>",
        )
    }
}

async fn pay(State(state): State<PageState>, Path(id): Path<String>, body: Bytes) -> Response {
    let (item, mut s) = match session(&state, &id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let local = state.services.payments.as_any().downcast_ref::<LocalPayments>().expect("checked by session()");
    let fields = fields(&body);
    let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    if let Err(r) = expire_if_due(&state, &item, &mut s).await {
        return r;
    }
    match (s.status.as_str(), get("action")) {
        ("expired", _) => page(StatusCode::GONE, "Expired", "<p>This payment session has expired.</p>"),
        ("paid", _) => already_paid(&state, &item, s).await,
        (_, "cancel") => {
            s.status = "expired".into();
            if let Err(e) = local.update(&item, &s).await {
                return e.into_response();
            }
            deliver(&state, "checkout.session.expired", &s).await;
            Redirect::to(&s.request.cancel_url).into_response()
        }
        _ => {
            let card: String = get("card_number").chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
            if card == LOCAL_CARD_DECLINED {
                return page(
                    StatusCode::PAYMENT_REQUIRED,
                    "Pay",
                    &form(&s, Some("Your card was declined. Try another card.")),
                );
            }
            if card != LOCAL_CARD_PAYS {
                return page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Pay",
                    &form(&s, Some("Use a test card: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined.")),
                );
            }
            s.status = "paid".into();
            s.payment_intent = Some(format!("pi_local_{}", state.services.new_id()));
            if let Err(e) = local.update(&item, &s).await {
                // Another press of Pay (a double click, a reload) changed the session first:
                // answer as the session now stands, as the first press did.
                return match local.session(&id).await {
                    Ok(Some((item, current))) if current.status == "paid" => already_paid(&state, &item, current).await,
                    Ok(Some((_, current))) if current.status == "expired" => {
                        page(StatusCode::GONE, "Expired", "<p>This payment session has expired.</p>")
                    }
                    _ => e.into_response(),
                };
            }
            let item = match local.session(&id).await {
                Ok(Some((item, _))) => item,
                _ => {
                    return page(
                        StatusCode::BAD_GATEWAY,
                        "Paid",
                        "<p>Your payment is taken. Press Pay again to notify the portal.</p>",
                    )
                }
            };
            if deliver(&state, "checkout.session.completed", &s).await {
                s.delivered = true;
                let _ = local.update(&item, &s).await;
                Redirect::to(&s.request.success_url).into_response()
            } else {
                page(StatusCode::BAD_GATEWAY, "Paid", "<p>Your payment is taken, but the portal has not acknowledged it yet. Press Pay again to notify it.</p>")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn form_fields_are_decoded() {
        let f = super::fields(b"action=pay&card_number=4242+4242%204242+4242&cvc=1%2");
        assert_eq!(f[0], ("action".into(), "pay".into()));
        assert_eq!(f[1].1, "4242 4242 4242 4242");
        assert_eq!(f[2].1, "1%2");
    }
}
