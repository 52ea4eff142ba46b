//! The operator function in Lambda.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    signet_shared::app::lambda::run("operator", signet_operator::routes).await
}
