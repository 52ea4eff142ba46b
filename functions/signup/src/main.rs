//! The sign-up function in Lambda.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    signet_shared::app::lambda::run("signup", signet_signup::routes).await
}
