//! Lambda `send`: runs the jobs of SQS batches, reporting partial failures.

#[tokio::main]
async fn main() -> Result<(), emma::lambda::Error> {
    emma::lambda::serve_events(emma::lambda::send).await
}
