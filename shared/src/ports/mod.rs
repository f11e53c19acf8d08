//! The ports: the small interfaces the use cases are written against. Each
//! has a cloud adapter and a local adapter in `crate::adapters`, and one
//! conformance suite (in `tests/`) that both must pass.

pub mod blobs;
pub mod clock;
pub mod mail;
pub mod queue;
pub mod store;

pub use blobs::{
    Blob, BlobError, BlobKey, BlobMeta, BlobPrefix, BlobReader, BlobStore, PresignedRequest,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use mail::{MailError, Mailer, OutgoingMail, SentMail};
pub use queue::{Queue, QueueError, ReceivedMessage};
pub use store::{
    Cursor, IndexKey, Item, ItemStore, Key, KeyPrefix, Page, PutCondition, Query, StoreError,
    Stored, TxOp, Version,
};
