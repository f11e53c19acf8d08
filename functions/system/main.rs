//! Lambda `system`: GET /health and the OpenAPI document.

#[tokio::main]
async fn main() -> Result<(), emma::lambda::Error> {
    emma::lambda::serve_http(emma::http::system::routes).await
}
