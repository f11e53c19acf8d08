//! Writing files atomically for the local adapters: the bytes go to a temp
//! file beside the target, are flushed to disk, and the temp file is renamed
//! over the target, so a reader sees the old file or the whole new one.

use std::io;
use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;

/// What a temp file's name adds to its target's name. The `~` cannot occur
/// in a blob key or an outbox file name, so temp files are never mistaken
/// for the files they will become.
pub(crate) const TEMP_MARK: &str = "~tmp-";

/// Writes `bytes` to a new temp file beside `target` (same folder, so a
/// rename is atomic) and flushes it to disk; answers the temp file's path.
/// On failure the temp file is removed.
pub(crate) async fn write_temp(target: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    let mut name = target.file_name().unwrap_or_default().to_owned();
    name.push(format!("{TEMP_MARK}{}", uuid::Uuid::new_v4().simple()));
    let temp = target.with_file_name(name);
    let written = async {
        let mut file = tokio::fs::File::create(&temp).await?;
        file.write_all(bytes).await?;
        file.sync_all().await
    }
    .await;
    match written {
        Ok(()) => Ok(temp),
        Err(e) => {
            let _ = tokio::fs::remove_file(&temp).await;
            Err(e)
        }
    }
}

/// Replaces `target` by a file holding `bytes`, atomically: [`write_temp`],
/// then a rename over the target. On failure the temp file is removed and
/// the target is as it was.
pub(crate) async fn write_atomically(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = write_temp(target, bytes).await?;
    if let Err(e) = tokio::fs::rename(&temp, target).await {
        let _ = tokio::fs::remove_file(&temp).await;
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn names_in(dir: &Path) -> Vec<String> {
        let mut names = Vec::new();
        let mut entries = tokio::fs::read_dir(dir).await.unwrap();
        while let Some(entry) = entries.next_entry().await.unwrap() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        names
    }

    #[tokio::test]
    async fn an_atomic_write_replaces_the_file_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("identities.json");
        write_atomically(&target, b"old").await.unwrap();
        write_atomically(&target, b"new").await.unwrap();
        assert_eq!(tokio::fs::read(&target).await.unwrap(), b"new");
        assert_eq!(names_in(dir.path()).await, ["identities.json"]);
    }

    #[tokio::test]
    async fn a_temp_file_sits_beside_its_target_under_another_name() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("logo.png~blob");
        let temp = write_temp(&target, b"bytes").await.unwrap();
        assert_eq!(temp.parent(), Some(dir.path()));
        let name = temp.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("logo.png~blob~tmp-"), "{name}");
        assert_eq!(tokio::fs::read(&temp).await.unwrap(), b"bytes");
        assert!(!tokio::fs::try_exists(&target).await.unwrap());
    }

    #[tokio::test]
    async fn a_failed_write_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("missing-folder").join("x.json");
        assert!(write_atomically(&target, b"x").await.is_err());
        assert!(names_in(dir.path()).await.is_empty());
    }
}
