//! Lambda `contacts`: a tenant's contacts and test mails.

#[tokio::main]
async fn main() -> Result<(), emma::lambda::Error> {
    emma::lambda::serve_http(emma::http::contacts::routes).await
}
