//! Lambda `scheduler`: the EventBridge tick, every minute.

#[tokio::main]
async fn main() -> Result<(), emma::lambda::Error> {
    emma::lambda::serve_events(emma::lambda::scheduler).await
}
