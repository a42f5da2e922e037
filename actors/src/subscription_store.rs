//! Where one feed's subscription set is kept across restarts of the process
//! (`[state] dir`, off by default).
//!
//! Subscriptions changed at runtime would otherwise be lost when the process
//! restarts, and the configured set would come back. The session saves the
//! set after each change the provider acknowledged (or that was stored while
//! no socket streamed); on start a stored set replaces the configured one.
//! A save writes a temporary file, syncs it and renames it over the old one,
//! so a crash leaves the old set or the new one, never half of either. Saves
//! run off the session's thread, in the order they were asked for: a save
//! that lost the race to a newer one is skipped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// The file of one feed's set.
#[derive(Debug)]
pub struct SubscriptionStore {
    feed: String,
    path: PathBuf,
    asked: AtomicU64,
    written: Mutex<u64>,
}

/// What the file holds.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    feed: String,
    topics: Vec<String>,
}

/// Why a stored set could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file exists but cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a stored subscription set.
    #[error("{path} is not a subscription set: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl SubscriptionStore {
    /// The store of `feed` in `dir`; nothing is touched until a save.
    pub fn new(dir: &Path, feed: &str) -> Arc<Self> {
        Arc::new(SubscriptionStore {
            feed: feed.to_owned(),
            path: dir.join(file_name(feed)),
            asked: AtomicU64::new(0),
            written: Mutex::new(0),
        })
    }

    /// The file it writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored set, or `None` when nothing was stored yet.
    pub fn load(&self) -> Result<Option<Vec<String>>, StoreError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                let path = self.path.clone();
                return Err(StoreError::Read { path, source });
            }
        };
        let corrupt = |reason: String| StoreError::Corrupt {
            path: self.path.clone(),
            reason,
        };
        let stored: Stored = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        if stored.feed != self.feed {
            return Err(corrupt(format!(
                "it belongs to feed `{}`, not `{}`",
                stored.feed, self.feed
            )));
        }
        Ok(Some(stored.topics))
    }

    /// The set a feed starts with: the stored one when there is one, else
    /// `configured`. A file that cannot be read is logged as an error and
    /// the configured set is used.
    pub fn load_or(&self, configured: Vec<String>) -> Vec<String> {
        match self.load() {
            Ok(Some(stored)) => {
                tracing::info!(feed = %self.feed, path = %self.path.display(), topics = ?stored, "subscriptions from the state file replace the configured ones");
                stored
            }
            Ok(None) => configured,
            Err(e) => {
                tracing::error!(feed = %self.feed, error = %e, "ignoring the state file; using the configured subscriptions");
                configured
            }
        }
    }

    /// Saves `topics` atomically, now, on this thread.
    pub fn save(&self, topics: &[String]) -> std::io::Result<()> {
        let seq = self.asked.fetch_add(1, Ordering::Relaxed) + 1;
        self.write(seq, topics)
    }

    /// Saves `topics` on a blocking-task thread, so the caller never waits
    /// on the disk; a failure is logged.
    pub fn save_in_background(self: &Arc<Self>, topics: Vec<String>) {
        let seq = self.asked.fetch_add(1, Ordering::Relaxed) + 1;
        let store = self.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = store.write(seq, &topics) {
                tracing::error!(feed = %store.feed, path = %store.path.display(), error = %e, "cannot save the subscriptions");
            }
        });
    }

    fn write(&self, seq: u64, topics: &[String]) -> std::io::Result<()> {
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        if seq <= *written {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let stored = Stored {
            feed: self.feed.clone(),
            topics: topics.to_vec(),
        };
        let text = serde_json::to_vec_pretty(&stored).map_err(std::io::Error::other)?;
        let temp = self.path.with_extension("json.tmp");
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(&text)?;
        file.sync_all()?;
        std::fs::rename(&temp, &self.path)?;
        *written = seq;
        Ok(())
    }
}

/// `subscriptions-FEED.json`, with every character of the feed name that is
/// not a letter, digit, `-` or `_` replaced by `_`.
pub fn file_name(feed: &str) -> String {
    let safe: String = feed
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("subscriptions-{safe}.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "tapewatch-store-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn file_names() {
        let cases = [
            ("stocks", "subscriptions-stocks.json"),
            ("us-east_1", "subscriptions-us-east_1.json"),
            ("../etc/passwd", "subscriptions-___etc_passwd.json"),
            ("a b", "subscriptions-a_b.json"),
        ];
        for (feed, want) in cases {
            assert_eq!(file_name(feed), want, "{feed}");
        }
    }

    #[test]
    fn a_saved_set_loads_back_and_nothing_else_is_left_behind() {
        let dir = temp_dir("roundtrip").join("nested");
        let store = SubscriptionStore::new(&dir, "stocks");
        assert!(store.load().expect("nothing stored is fine").is_none());
        let topics = vec!["T.MSFT".to_owned(), "Q.*".to_owned()];
        store.save(&topics).expect("saved");
        store.save(&topics[..1]).expect("saved again");
        assert_eq!(store.load().expect("readable"), Some(topics[..1].to_vec()));
        let files: Vec<_> = std::fs::read_dir(&dir)
            .expect("dir exists")
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        assert_eq!(files, ["subscriptions-stocks.json"]);
        let _ = std::fs::remove_dir_all(dir.parent().unwrap_or(&dir));
    }

    #[test]
    fn an_older_save_never_overwrites_a_newer_one() {
        let dir = temp_dir("order");
        let store = SubscriptionStore::new(&dir, "stocks");
        let old = store.asked.fetch_add(1, Ordering::Relaxed) + 1;
        store.save(&["T.NEW".to_owned()]).expect("saved");
        store.write(old, &["T.OLD".to_owned()]).expect("skipped");
        assert_eq!(
            store.load().expect("readable"),
            Some(vec!["T.NEW".to_owned()])
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_corrupt_or_foreign_file_is_a_clear_error() {
        let dir = temp_dir("corrupt");
        std::fs::create_dir_all(&dir).expect("dir");
        let store = SubscriptionStore::new(&dir, "stocks");
        let cases = [
            ("{not json", "is not a subscription set"),
            (
                r#"{"feed":"stocks","topics":[1]}"#,
                "is not a subscription set",
            ),
            (
                r#"{"feed":"options","topics":[]}"#,
                "belongs to feed `options`",
            ),
        ];
        let configured = vec!["T.*".to_owned()];
        for (text, want) in cases {
            std::fs::write(store.path(), text).expect("written");
            let error = store.load().expect_err(text).to_string();
            assert!(error.contains(want), "{text}: {error}");
            assert!(error.contains("subscriptions-stocks.json"), "{error}");
            assert_eq!(store.load_or(configured.clone()), configured);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
