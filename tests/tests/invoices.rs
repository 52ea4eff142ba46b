//! Invoice numbers on both back ends: fifty issuances racing in one series end with fifty
//! invoices numbered without gap or duplicate; a number is used only with its invoice.

use signet_shared::domain::billing::invoice;
use signet_shared::ports::store::{Item, Key, Write};
use signet_tests::{scenarios, World};

scenarios!(fifty_racing_issuances_number_fifty_invoices_without_gap_or_duplicate,);

async fn fifty_racing_issuances_number_fifty_invoices_without_gap_or_duplicate(w: World) {
    let series = format!("T{}", w.services.new_id());
    let mut tasks = Vec::new();
    for i in 0..50 {
        let services = w.services.clone();
        let series = series.clone();
        tasks.push(tokio::spawn(async move {
            invoice::issue_numbered(&services, &series, |number| {
                let invoice = serde_json::json!({"number": number, "order": i});
                Ok(vec![Write::create(Item::new(Key::new(format!("INVOICE#{series}#{i}"), "INVOICE"), &invoice)?)])
            })
            .await
            .unwrap()
        }));
    }
    let mut numbers = Vec::new();
    for task in tasks {
        numbers.push(task.await.unwrap());
    }
    numbers.sort();
    let expected: Vec<String> = (1..=50).map(|n| invoice::format_number(&series, n)).collect();
    assert_eq!(numbers, expected);
    // Each number is stored with its invoice, and only there.
    for i in 0..50 {
        let item = w.services.store.get(&Key::new(format!("INVOICE#{series}#{i}"), "INVOICE")).await.unwrap().unwrap();
        let body: serde_json::Value = item.decode().unwrap();
        assert!(expected.contains(&body["number"].as_str().unwrap().to_owned()));
    }
    // An issuance that fails (its invoice cannot be stored) uses no number.
    let failed = invoice::issue_numbered(&w.services, &series, |_| {
        Ok(vec![Write::create(
            Item::new(Key::new(format!("INVOICE#{series}#0"), "INVOICE"), &serde_json::json!({})).unwrap(),
        )])
    })
    .await;
    assert_eq!(failed.unwrap_err().code, signet_shared::ErrorCode::Conflict);
    let next = invoice::issue_numbered(&w.services, &series, |number| {
        Ok(vec![Write::create(Item::new(
            Key::new(format!("INVOICE#{series}#next"), "INVOICE"),
            &serde_json::json!({"number": number}),
        )?)])
    })
    .await
    .unwrap();
    assert_eq!(next, invoice::format_number(&series, 51));
}
