//! Lambda `contacts`: a tenant's audience: contacts, lists, segments,
//! custom fields, imports, exports, suppressions, sign-up forms, GDPR
//! requests and test mails.

#[tokio::main]
async fn main() -> Result<(), emma::lambda::Error> {
    emma::lambda::serve_http(emma::http::audience_routes).await
}
