//! Lambda `content`: a tenant's templates and their previews.

#[tokio::main]
async fn main() -> Result<(), emma::lambda::Error> {
    emma::lambda::serve_http(emma::http::content_routes).await
}
