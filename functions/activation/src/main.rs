//! The activation function in Lambda.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    signet_shared::app::lambda::run("activation", signet_activation::routes).await
}
