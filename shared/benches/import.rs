//! The import benchmark: generated German contact files of 100,000 and
//! 1,000,000 rows imported into a fresh tenant on the embedded default
//! (SQLite, files) the way the UI runs them: announced, uploaded,
//! analysed, started, and run by the background worker from the queue.
//! Prints rows per second and peak memory; then a segment count over the
//! imported contacts, a full pass and the kept count. Asserts nothing
//! timed.
//!
//! `cargo bench -p emma --bench import` (both sizes), or with sizes:
//! `cargo bench -p emma --bench import -- 250000`. Each size runs in a
//! process of its own, so its peak memory is its own.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use emma::bootstrap;
use emma::config::Config;
use emma::domain::{ContactStatus, TenantName, UserId};
use emma::import::run::ImportMode;
use emma::ports::SystemClock;
use emma::services::imports::{self, ImportStatus};
use emma::services::segments::{self, SegmentFilter};
use emma::services::tenants;

const FIRST: &[&str] = &[
    "Jürgen",
    "Anna",
    "Max",
    "Özlem",
    "Erika",
    "Hans-Peter",
    "Sophie",
    "Lukas",
    "Mia",
    "Jörg",
];
const LAST: &[&str] = &[
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weiß",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
];

/// Writes `rows` contacts as German Excel would: BOM, `;`, CRLF.
fn generate(path: &Path, rows: u64) -> std::io::Result<u64> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    out.write_all("\u{feff}Anrede;Vorname;Nachname;E-Mail-Adresse;Sprache\r\n".as_bytes())?;
    for i in 0..rows {
        let first = FIRST[(i % FIRST.len() as u64) as usize];
        let last = LAST[(i / 7 % LAST.len() as u64) as usize];
        let salutation = if i % 2 == 0 { "Frau" } else { "Herr" };
        let language = if i % 10 == 0 { "en" } else { "de" };
        write!(
            out,
            "{salutation};{first};{last};kunde.{i:07}@sparkasse-beispiel.de;{language}\r\n"
        )?;
    }
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// The process's peak resident memory, in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// The machine's load average over the last minute: other work on the
/// machine slows the import down, so figures come with it.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

async fn one(rows: u64) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let data_dir = dir.path().join("data");
    let file = dir.path().join("kontakte.csv");
    let size = generate(&file, rows).expect("the generated file");
    let config = Config::from_lookup(|name| match name {
        "EMMA_DATA_DIR" => Some(data_dir.display().to_string()),
        "EMMA_LISTEN" => Some("127.0.0.1:0".to_owned()),
        _ => None,
    })
    .expect("a local configuration");
    let runtime = bootstrap::build(config, Arc::new(SystemClock))
        .await
        .expect("the embedded default");
    let app = runtime.app.clone();
    let tenant = tenants::create(&app, TenantName::parse("Sparkasse Benchmark").unwrap())
        .await
        .expect("a tenant")
        .id;
    // As the UI does it: announce, upload (here: straight into the blob
    // store, as the browser's PUT would), analyse, start; then the
    // background worker runs the job from the queue.
    let (import, _) = imports::announce(&app, &tenant, UserId::generate(), "kontakte.csv", size)
        .await
        .expect("an announced import");
    app.blobs
        .put_file(
            &imports::upload_key(&tenant, &import.id).expect("a blob key"),
            &file,
            "text/csv",
        )
        .await
        .expect("the upload");
    let analysis = imports::analyse(&app, &tenant, &import.id)
        .await
        .expect("the analysis");
    let mapping = analysis.suggested_mapping.expect("a suggested mapping");
    let before = peak_rss_mib();

    let started = Instant::now();
    imports::start(
        &app,
        &tenant,
        &import.id,
        mapping,
        ImportMode::Add,
        ContactStatus::Subscribed,
        None,
    )
    .await
    .expect("the start");
    while emma::local::send_once(&app, Duration::ZERO)
        .await
        .expect("the queue")
        > 0
    {}
    let elapsed = started.elapsed().as_secs_f64();
    let done = imports::get(&app, &tenant, &import.id)
        .await
        .expect("the import");
    let progress = done.progress;

    assert_eq!(done.status, ImportStatus::Finished, "{:?}", done.error);
    assert_eq!(progress.added, rows, "every generated row is a new contact");
    println!(
        "import {rows:>9} rows ({:>5.1} MB): {elapsed:>6.2} s, {:>9.0} rows/s, peak RSS {:>5.1} MiB (before the import {:.1} MiB), load {}",
        size as f64 / 1e6,
        rows as f64 / elapsed,
        peak_rss_mib(),
        before,
        load_average(),
    );
    count_a_segment(&app, &tenant, rows).await;
}

/// A segment count over the imported contacts: a full pass (what a count
/// costs when none is kept) and again within the minute (the kept count).
async fn count_a_segment(app: &emma::App, tenant: &emma::domain::TenantId, rows: u64) {
    let filter: SegmentFilter = serde_json::from_value(serde_json::json!({
        "conditions": [
            { "field": "status", "op": "is", "value": "subscribed" },
            { "field": "language", "op": "is", "value": "en" },
        ]
    }))
    .expect("a filter");
    let started = Instant::now();
    let fresh = segments::count_fresh(app, tenant, &filter)
        .await
        .expect("a count");
    let pass = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let kept = segments::count(app, tenant, &filter)
        .await
        .expect("the kept count");
    let cached = started.elapsed().as_secs_f64();
    assert_eq!(fresh.count, rows.div_ceil(10), "every tenth is English");
    assert_eq!(kept, fresh);
    println!(
        "segment count over {rows:>9} contacts: full pass {:>7.0} ms ({:>7.0} contacts/s), kept count {:.2} ms, load {}",
        pass * 1000.0,
        rows as f64 / pass,
        cached * 1000.0,
        load_average(),
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(position) = args.iter().position(|a| a == "--one") {
        let rows = args[position + 1].parse().expect("a row count");
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(one(rows));
        return;
    }
    let sizes: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() {
        vec![100_000, 1_000_000]
    } else {
        sizes
    };
    let me = std::env::current_exe().expect("this benchmark's path");
    for rows in sizes {
        let status = Command::new(&me)
            .args(["--one", &rows.to_string()])
            .status()
            .expect("the benchmark process");
        assert!(status.success(), "the run of {rows} rows failed");
    }
}
