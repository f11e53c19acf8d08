//! Lambda `audit`: the audit logs of tenants and of the platform.

#[tokio::main]
async fn main() -> Result<(), emma::lambda::Error> {
    emma::lambda::serve_http(emma::http::audit::routes).await
}
