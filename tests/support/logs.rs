//! Capturing what EMMA logs during a test, in the JSON format it logs in
//! production, to check what the logs contain.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

/// Everything the test binary logs from the first call on, as production
/// would log it (JSON, info). One process-wide subscriber: a subscriber per
/// test (thread-local) misses events whose call sites another test thread
/// registered first. Tests running at once all write here, so a test looks
/// for markers of its own (e.g. an address made for it).
pub fn process_logs() -> &'static CapturedLogs {
    static LOGS: std::sync::OnceLock<CapturedLogs> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = CapturedLogs::default();
        tracing::subscriber::set_global_default(logs.subscriber())
            .expect("no other global subscriber in the test binary");
        logs
    })
}

impl CapturedLogs {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// A JSON subscriber at production's default level (info) that writes
    /// here. (At trace level the AWS SDK logs request bodies; production
    /// never runs at that level.)
    pub fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + use<> {
        tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_max_level(tracing::Level::INFO)
            .with_writer(self.clone())
            .finish()
    }
}

pub struct Writer(Arc<Mutex<Vec<u8>>>);

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLogs {
    type Writer = Writer;

    fn make_writer(&'a self) -> Self::Writer {
        Writer(self.0.clone())
    }
}
