//! The renewal reminders in Lambda, run daily by an EventBridge schedule: the holders of
//! subscriptions ending in 30, 7 and 1 days are emailed, once each (a second run the same
//! day sends nothing; a failed send is retried by the next run).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    signet_shared::lambda::run_scheduled("reminders", |services| async move { signet_shared::reminders::run(&services, services.now()).await }).await
}
