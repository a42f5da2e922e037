//! Recorder: writes what one feed's session receives and sends to disk,
//! off the hot thread (the format is in [`crate::recording`]).
//!
//! The session stamps each frame with its receive time and hands it over
//! with `try_send` into a bounded queue; a thread of its own compresses and
//! writes. When the disk cannot keep up, the queue fills and entries are
//! shed: counted in `tapewatch_dropped_total{stage="recorder"}` and marked
//! by a gap line in the file, never waited for. A failing write is logged
//! (once per failing streak), counted in `tapewatch_record_errors_total`,
//! and retried a second later; the live pipeline never notices.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use prometheus::IntCounter;
use serde::{Deserialize, Serialize};

use crate::metrics::Metrics;
use crate::recording::hour_file::{check_dir, FileSettings, HourFiles};
use crate::recording::{encode, encode_gap, now_ns, Entry, Stamped, REDACTED};

/// How long a failing disk is left alone before the next attempt.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The `[record]` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordConfig {
    /// Directory of the recording; unset records nothing.
    pub dir: Option<PathBuf>,
    /// zstd level: 1 is fastest, higher is smaller and slower.
    pub level: i32,
    /// A zstd frame is closed after this many milliseconds ...
    pub frame_ms: u64,
    /// ... or this many uncompressed bytes, whichever comes first: what a
    /// crash can lose at most.
    pub frame_bytes: usize,
    /// Entries that may wait for the writer, per feed; beyond this they are shed.
    pub queue: usize,
}

impl Default for RecordConfig {
    fn default() -> Self {
        RecordConfig {
            dir: None,
            // The fastest level: the writer must keep up with millions of
            // events a second beside the pipeline on a small machine.
            level: 1,
            frame_ms: 2_000,
            frame_bytes: 4 << 20,
            queue: 65_536,
        }
    }
}

/// What the session hands the writer.
enum Command {
    /// An entry, after `lost` entries that were shed just before it.
    Entry { stamped: Stamped, lost: u64 },
    /// Close the files and answer.
    Finish(std::sync::mpsc::Sender<()>),
}

/// The session's end of one feed's recorder; cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    tx: SyncSender<Command>,
    /// Entries shed since the last one that got through.
    lost: Arc<AtomicU64>,
    dropped: IntCounter,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").finish_non_exhaustive()
    }
}

impl Recorder {
    /// Checks that `config.dir` is writable and starts the writer thread of
    /// `feed`. Fails with a clear error when the directory cannot be used.
    pub fn start(
        config: &RecordConfig,
        dir: &Path,
        feed: &str,
        provider: &str,
        metrics: &Metrics,
    ) -> std::io::Result<Recorder> {
        check_dir(dir).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot record into {}: {e}", dir.display()),
            )
        })?;
        let settings = FileSettings {
            level: config.level,
            frame_bytes: config.frame_bytes.max(1),
            frame_interval: Duration::from_millis(config.frame_ms.max(1)),
        };
        let files = HourFiles::new(dir, feed, provider, settings);
        let (tx, rx) = sync_channel(config.queue.max(1));
        let mut writer = Writer {
            files,
            line: Vec::with_capacity(1 << 16),
            errors: metrics.record_errors.clone(),
            dropped: metrics.dropped("recorder"),
            failing_since: None,
            lost: 0,
            tick: settings_tick(config),
        };
        std::thread::Builder::new()
            .name(format!("tapewatch-record-{feed}"))
            .spawn(move || writer.run(&rx))?;
        Ok(Recorder {
            tx,
            lost: Arc::default(),
            dropped: metrics.dropped("recorder"),
        })
    }

    /// A text frame received on connection `conn`.
    pub fn received(&self, conn: u64, frame: &Bytes) {
        self.offer(conn, Entry::Received(frame.clone()));
    }

    /// A frame sent on connection `conn`.
    pub fn sent(&self, conn: u64, text: &str) {
        self.offer(conn, Entry::Sent(text.to_owned()));
    }

    /// The auth message went out on `conn`; its text is not recorded.
    pub fn sent_auth(&self, conn: u64) {
        self.offer(conn, Entry::Sent(REDACTED.to_owned()));
    }

    /// A connection event.
    pub fn event(&self, conn: u64, entry: Entry) {
        self.offer(conn, entry);
    }

    fn offer(&self, conn: u64, entry: Entry) {
        let lost = self.lost.swap(0, Ordering::Relaxed);
        let stamped = Stamped {
            t_ns: now_ns(),
            conn,
            entry,
        };
        match self.tx.try_send(Command::Entry { stamped, lost }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.lost.fetch_add(lost + 1, Ordering::Relaxed);
                self.dropped.inc();
            }
            // The writer finished (shutdown): nothing more is recorded.
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// Closes the current zstd frame and the files, waiting at most `limit`;
    /// false if the writer did not answer in time.
    pub fn finish(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let (ack, done) = std::sync::mpsc::channel();
        let mut command = Command::Finish(ack);
        loop {
            match self.tx.try_send(command) {
                Ok(()) => break,
                Err(TrySendError::Full(c)) if Instant::now() < deadline => {
                    command = c;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(_) => return false,
            }
        }
        done.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .is_ok()
    }
}

fn settings_tick(config: &RecordConfig) -> Duration {
    Duration::from_millis((config.frame_ms / 4).clamp(10, 1_000))
}

/// The blocking half: one thread per feed.
struct Writer {
    files: HourFiles,
    line: Vec<u8>,
    errors: IntCounter,
    dropped: IntCounter,
    /// Set while the disk fails: entries are shed until the retry time.
    failing_since: Option<Instant>,
    /// Entries shed here (disk failing) not yet marked in the file.
    lost: u64,
    tick: Duration,
}

impl Writer {
    fn run(&mut self, rx: &Receiver<Command>) {
        loop {
            match rx.recv_timeout(self.tick) {
                Ok(Command::Entry { stamped, lost }) => self.write(&stamped, lost),
                Ok(Command::Finish(ack)) => {
                    let result = self.files.close();
                    self.check(result);
                    let _ = ack.send(());
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(e) = self.files.tick() {
                        self.check(Err(e));
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let result = self.files.close();
                    self.check(result);
                    return;
                }
            }
        }
    }

    fn write(&mut self, stamped: &Stamped, lost: u64) {
        self.lost += lost;
        if self
            .failing_since
            .is_some_and(|t| t.elapsed() < RETRY_AFTER)
        {
            self.lost += 1;
            self.dropped.inc();
            return;
        }
        self.line.clear();
        if self.lost > 0 {
            encode_gap(stamped.t_ns, self.lost, &mut self.line);
        }
        encode(stamped, &mut self.line);
        let result = self.files.write(stamped.t_ns, &self.line);
        if result.is_ok() {
            self.lost = 0;
        } else {
            self.lost += 1;
            self.dropped.inc();
        }
        self.check(result);
    }

    /// Counts and logs a failure (the first of a streak), and gives up the
    /// damaged file so the next attempt starts a fresh frame.
    fn check(&mut self, result: std::io::Result<()>) {
        match result {
            Ok(()) => {
                if self.failing_since.take().is_some() {
                    tracing::info!("recording resumed");
                }
            }
            Err(e) => {
                self.errors.inc();
                self.files.abandon();
                if self.failing_since.is_none() {
                    tracing::error!(error = %e, "recording write failed; shedding entries and retrying every second, the live pipeline goes on");
                }
                self.failing_since = Some(Instant::now());
            }
        }
    }
}

#[cfg(test)]
mod tests;
