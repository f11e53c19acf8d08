//! Reading back the messages EMMA sent: the outbox folder locally, moto's
//! record of SESv2 raw messages in the cloud.

use std::path::Path;

use crate::app::{Adapters, TestApp};

/// The raw MIME of every message sent so far whose text contains `marker`
/// (e.g. its Message-ID).
pub async fn messages_containing(app: &TestApp, marker: &str) -> Vec<Vec<u8>> {
    deliver_queued_jobs(app).await;
    let all = match app.adapters {
        Adapters::Local => outbox_messages(
            &app.data_dir
                .as_ref()
                .expect("data folder")
                .path()
                .join("outbox"),
        ),
        Adapters::Cloud => emulator_messages().await,
    };
    all.into_iter()
        .filter(|raw| String::from_utf8_lossy(raw).contains(marker))
        .collect()
}

fn outbox_messages(dir: &Path) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "eml") {
                found.push(std::fs::read(&path).expect("readable .eml"));
            }
        }
    }
    found
}

async fn emulator_messages() -> Vec<Vec<u8>> {
    let data = emulator_ses_messages().await;
    let mut found = Vec::new();
    collect_raw(&data["ses"]["RawMessage"], &mut found);
    found
}

/// What SES accepted in the emulator, as `{"ses": {"RawMessage": [{"id",
/// "source", "destinations", "raw_data"}, ...]}}`: from the test command's
/// emulator (scripts/moto_atomic.py answers just these), else from moto's
/// dump of everything, `/moto-api/data.json`, which grows slower with every
/// object any test made.
pub async fn emulator_ses_messages() -> serde_json::Value {
    let endpoint = crate::aws::endpoint();
    let quick = reqwest::get(format!("{endpoint}/emma-emulator/ses-raw-messages"))
        .await
        .expect("moto answers");
    if quick.status().is_success() {
        return quick.json().await.expect("the raw messages are JSON");
    }
    let url = format!("{endpoint}/moto-api/data.json");
    // moto dumps every service's models for this page; while another test
    // is mid-way through a DynamoDB write it can fail to serialise one
    // (a 500 with a Python traceback), so a failed dump is asked again.
    let mut attempts = 0;
    loop {
        attempts += 1;
        let answer = reqwest::get(&url).await.expect("moto answers");
        let status = answer.status();
        match answer.json().await {
            Ok(data) if status.is_success() => return data,
            Ok(_) | Err(_) if attempts < 10 => {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            Ok(_) => panic!("moto's data dump failed: {status}"),
            Err(e) => panic!("moto's data is not JSON ({status}): {e}"),
        }
    }
}

/// moto nests its records by account and region; take every `raw_data`.
fn collect_raw(value: &serde_json::Value, found: &mut Vec<Vec<u8>>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(raw) = map.get("raw_data").and_then(|r| r.as_str()) {
                found.push(raw.as_bytes().to_vec());
            }
            for v in map.values() {
                collect_raw(v, found);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_raw(v, found)),
        _ => {}
    }
}

/// Runs the jobs waiting on the app's queue through the send worker, as
/// the local server's task or the Lambda would (mails such as reset links
/// are sent there).
pub async fn deliver_queued_jobs(app: &TestApp) {
    loop {
        let handled = emma::local::send_once(app.app(), std::time::Duration::ZERO)
            .await
            .expect("the jobs queue answers");
        if handled == 0 {
            break;
        }
    }
}
