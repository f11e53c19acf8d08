//! Lambda `content`: a tenant's templates with their versions and previews,
//! its image library and its campaigns.

#[tokio::main]
async fn main() -> Result<(), emma::lambda::Error> {
    emma::lambda::serve_http(emma::http::content_routes).await
}
