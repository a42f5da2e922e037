//! One feed's recording files: `DIR/<feed>/YYYY-MM-DD/HH.ndjson.zst`, one per
//! hour of receive time, each a run of closed zstd frames.
//!
//! A frame is closed once it holds `frame_bytes` of lines or is
//! `frame_interval` old, so a crash loses at most that much. An hour's file
//! that already exists (the process restarted) is appended to: concatenated
//! zstd frames are one valid zstd stream, and the new part starts with its
//! own header line.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, UNIX_EPOCH};

use zstd::stream::write::Encoder;

const NS_PER_HOUR: u64 = 3_600_000_000_000;

/// How the files are written.
#[derive(Debug, Clone)]
pub struct FileSettings {
    /// zstd level (1 = fastest).
    pub level: i32,
    /// Close a frame once it holds this many uncompressed bytes.
    pub frame_bytes: usize,
    /// Close a frame at least this often while lines arrive.
    pub frame_interval: Duration,
}

/// The file of the current hour, open for appending.
struct Open {
    hour: u64,
    encoder: Encoder<'static, File>,
    frame_bytes: usize,
    frame_started: Instant,
}

/// The writer of one feed's hourly files.
pub struct HourFiles {
    feed_dir: PathBuf,
    feed: String,
    provider: String,
    settings: FileSettings,
    open: Option<Open>,
    header: Vec<u8>,
}

/// `YYYY-MM-DD/HH.ndjson.zst` for the hour holding `t_ns`.
pub fn relative_path(t_ns: u64) -> PathBuf {
    let hour_start = UNIX_EPOCH + Duration::from_nanos(t_ns - t_ns % NS_PER_HOUR);
    // `2026-11-28T17:00:00Z`: the date and the hour are its first 13 bytes.
    let stamp = humantime::format_rfc3339_seconds(hour_start).to_string();
    let (date, hour) = (&stamp[..10], &stamp[11..13]);
    Path::new(date).join(format!("{hour}.ndjson.zst"))
}

impl HourFiles {
    /// Files of `feed` under `dir/<feed>/`; nothing is opened yet.
    pub fn new(dir: &Path, feed: &str, provider: &str, settings: FileSettings) -> Self {
        HourFiles {
            feed_dir: dir.join(feed),
            feed: feed.to_owned(),
            provider: provider.to_owned(),
            settings,
            open: None,
            header: Vec::new(),
        }
    }

    /// Appends `line` (with its newline), received at `t_ns`, to that hour's file.
    pub fn write(&mut self, t_ns: u64, line: &[u8]) -> io::Result<()> {
        let hour = t_ns / NS_PER_HOUR;
        if self.open.as_ref().is_some_and(|o| o.hour != hour) {
            self.close()?;
        }
        if self.open.is_none() {
            self.open = Some(self.open_hour(t_ns)?);
        }
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        open.encoder.write_all(line)?;
        open.frame_bytes += line.len();
        if open.frame_bytes >= self.settings.frame_bytes {
            self.end_frame()?;
        }
        Ok(())
    }

    /// Closes the current frame if it has been open for the frame interval.
    pub fn tick(&mut self) -> io::Result<()> {
        let due = self.open.as_ref().is_some_and(|o| {
            o.frame_bytes > 0 && o.frame_started.elapsed() >= self.settings.frame_interval
        });
        if due {
            self.end_frame()?;
        }
        Ok(())
    }

    /// Closes the current frame and the file.
    pub fn close(&mut self) -> io::Result<()> {
        if let Some(open) = self.open.take() {
            let mut file = open.encoder.finish()?;
            file.flush()?;
        }
        Ok(())
    }

    /// Forgets the current file without writing more to it (after an error:
    /// the next write reopens it and starts a new frame).
    pub fn abandon(&mut self) {
        self.open = None;
    }

    fn open_hour(&mut self, t_ns: u64) -> io::Result<Open> {
        let path = self.feed_dir.join(relative_path(t_ns));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let mut encoder = new_encoder(file, self.settings.level)?;
        self.header.clear();
        super::encode_header(&self.feed, &self.provider, t_ns, &mut self.header);
        encoder.write_all(&self.header)?;
        Ok(Open {
            hour: t_ns / NS_PER_HOUR,
            encoder,
            frame_bytes: self.header.len(),
            frame_started: Instant::now(),
        })
    }

    fn end_frame(&mut self) -> io::Result<()> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let file = open.encoder.finish()?;
        self.open = Some(Open {
            encoder: new_encoder(file, self.settings.level)?,
            frame_bytes: 0,
            frame_started: Instant::now(),
            ..open
        });
        Ok(())
    }
}

fn new_encoder(file: File, level: i32) -> io::Result<Encoder<'static, File>> {
    let mut encoder = Encoder::new(file, level)?;
    // A checksum per frame lets replay tell a damaged frame from a good one.
    encoder.include_checksum(true)?;
    Ok(encoder)
}

/// Checks at start that `dir` can hold a recording: creates it and writes
/// and removes a probe file, so an unwritable directory or a full disk is a
/// clear error before anything runs.
pub fn check_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(".tapewatch-write-probe");
    let result = File::create(&probe).and_then(|mut f| {
        f.write_all(&[0u8; 4096])?;
        f.sync_all()
    });
    let _ = std::fs::remove_file(&probe);
    result
}
