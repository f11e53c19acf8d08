//! Lambda `ui`: the browser UI's pages and static assets.

#[tokio::main]
async fn main() -> Result<(), emma::lambda::Error> {
    emma::lambda::serve_ui().await
}
