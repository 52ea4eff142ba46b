//! The renewal reminders in Lambda, run daily by an EventBridge schedule: the holders of
//! subscriptions ending in 30, 7 and 1 days are emailed, once each (a second run the same
//! day sends nothing; a failed send is retried by the next run). The same run sends the
//! receipts and invoice notices a crashed sender left behind.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    // Both jobs run, whatever the other's outcome; a failure of either fails the run.
    signet_shared::app::lambda::run_scheduled("reminders", |services| async move {
        signet_shared::app::daily::run(&services).await.total()
    })
    .await
}
