//! The email-change function in Lambda.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    signet_shared::app::lambda::run("email-change", signet_email_change::routes).await
}
