//! Lambda `admin`: tenants (platform) and each tenant's users.

#[tokio::main]
async fn main() -> Result<(), emma::lambda::Error> {
    emma::lambda::serve_http(emma::http::admin_routes).await
}
