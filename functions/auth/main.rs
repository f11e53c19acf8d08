//! Lambda `auth`: sign-in, sign-out, the signed-in user, password change.

#[tokio::main]
async fn main() -> Result<(), emma::lambda::Error> {
    emma::lambda::serve_http(emma::http::auth::routes).await
}
