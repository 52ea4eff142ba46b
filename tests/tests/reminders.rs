//! Renewal reminders on both back ends: a run over subscriptions ending in 30, 7 and 1 days
//! sends each reminder once; a second run the same day sends nothing; others get none.

use signet_shared::domain::billing::reminders;
use signet_shared::domain::people::account::{self, CustomerSpace, Person, SpaceKind};
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::domain::signatures::subscription::{self, Product, Subscription, SubscriptionStatus};
use signet_shared::Locale;
use signet_tests::{scenarios, World};

scenarios!(reminders_go_out_at_30_7_and_1_days_once_each,);

async fn reminders_go_out_at_30_7_and_1_days_once_each(w: World) {
    // Whole days from the scenario's own "now", so the run finds them by day.
    let now = w.services.now();
    let mut holders = Vec::new();
    for (name, days, locale) in
        [("thirty", 30, Locale::Fr), ("seven", 7, Locale::En), ("one", 1, Locale::En), ("ten", 10, Locale::En)]
    {
        let email = EmailAddress::parse(&w.email(&format!("reminded.{name}"))).unwrap();
        let person = Person::new(
            w.services.new_id(),
            email.clone(),
            "Test".into(),
            "Subscriber".into(),
            locale,
            "unused".into(),
            None,
            now,
        );
        let space = CustomerSpace {
            id: w.services.new_id(),
            kind: SpaceKind::Individual,
            name: "Test Subscriber".into(),
            created_at: now,
            billing: None,
        };
        let mut writes = account::individual_account_writes(&person, &space).unwrap();
        let sub = Subscription {
            id: w.services.new_id(),
            space_id: space.id.clone(),
            holder_id: person.id.clone(),
            product: Product::CloudSignature,
            status: SubscriptionStatus::Functional,
            term_start: now - 300 * 86400,
            term_end: now + days * 86400,
            certificate: None,
            recovery: None,
        };
        writes.extend(subscription::creation_writes(&sub).unwrap());
        w.services.store.transact(writes).await.unwrap();
        holders.push((email.to_string(), days, locale));
    }
    let sent = reminders::run(&w.services, now).await.unwrap();
    assert_eq!(sent, 3);
    for (email, days, locale) in &holders {
        let mails = w.sent_to(email).await;
        if *days == 10 {
            assert!(mails.is_empty(), "no reminder at 10 days");
            continue;
        }
        assert_eq!(mails.len(), 1, "{email}");
        let expected = if *locale == Locale::Fr { format!("dans {days} jour") } else { format!("ends in {days} day") };
        assert!(mails[0].body.contains(&expected), "{}", mails[0].body);
    }
    // A second run the same day sends nothing more to them.
    reminders::run(&w.services, now + 3600).await.unwrap();
    for (email, days, _) in &holders {
        assert_eq!(w.sent_to(email).await.len(), usize::from(*days != 10), "{email}");
    }
}
