//! Adapters: each port's cloud implementation (DynamoDB, S3, SESv2, SQS) and
//! local implementation (SQLite, files, an outbox folder, an in-process
//! queue). They pass the same conformance suite.

pub mod aws;
pub mod dynamo;
pub mod emulator;
pub mod fetch;
mod files;
pub mod fs_blobs;
pub mod local_queue;
pub mod outbox;
pub mod s3;
pub mod ses;
pub mod sqlite;
pub mod sqs;
mod store_cursor;
