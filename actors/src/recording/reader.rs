//! Reads one recording file line by line, zstd frame by zstd frame, and
//! survives damage: a corrupt frame is reported and skipped (reading goes on
//! at the next frame's magic number), a truncated last frame gives the whole
//! lines it holds, and a line that is not JSON is reported and skipped. Every
//! problem names the file and the line.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The four bytes every zstd frame starts with.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// Problems shown in full before the rest are only counted.
const SHOWN_ISSUES: u64 = 50;

/// What kind of damage was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IssueKind {
    /// A zstd frame that does not decode (its checksum or data is wrong).
    CorruptFrame,
    /// The file ends inside a frame or a line (a crash while recording).
    Truncated,
    /// A line that is not JSON, or not a line of this format.
    BadLine,
    /// A file written by a newer version of the format.
    NewerVersion,
    /// The file could not be read at all.
    Unreadable,
}

impl IssueKind {
    /// The stable name used in reports.
    pub fn label(self) -> &'static str {
        match self {
            IssueKind::CorruptFrame => "corrupt_frame",
            IssueKind::Truncated => "truncated",
            IssueKind::BadLine => "bad_line",
            IssueKind::NewerVersion => "newer_version",
            IssueKind::Unreadable => "unreadable",
        }
    }
}

/// Counts problems by kind and logs each (the first [`SHOWN_ISSUES`] in full).
#[derive(Debug, Default)]
pub struct Issues {
    counts: BTreeMap<IssueKind, u64>,
    shown: u64,
}

impl Issues {
    /// Records one problem at `line` of `file`.
    pub fn report(&mut self, kind: IssueKind, file: &Path, line: u64, detail: &str) {
        *self.counts.entry(kind).or_default() += 1;
        self.shown += 1;
        if self.shown <= SHOWN_ISSUES {
            tracing::warn!(file = %file.display(), line, kind = kind.label(), "{detail}");
        } else if self.shown == SHOWN_ISSUES + 1 {
            tracing::warn!("more problems in the recording; counting without showing them");
        }
    }

    /// Problems of one kind.
    pub fn count(&self, kind: IssueKind) -> u64 {
        self.counts.get(&kind).copied().unwrap_or(0)
    }

    /// Every kind with its count.
    pub fn counts(&self) -> impl Iterator<Item = (IssueKind, u64)> + '_ {
        self.counts.iter().map(|(k, n)| (*k, *n))
    }

    /// All problems.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }
}

/// One file, read a zstd frame at a time.
pub struct FileReader {
    path: PathBuf,
    input: BufReader<File>,
    /// The current frame, decompressed.
    buf: Vec<u8>,
    pos: usize,
    line: u64,
    eof: bool,
}

impl FileReader {
    /// Opens `path`.
    pub fn open(path: &Path) -> io::Result<Self> {
        Ok(FileReader {
            path: path.to_owned(),
            input: BufReader::with_capacity(1 << 16, File::open(path)?),
            buf: Vec::new(),
            pos: 0,
            line: 0,
            eof: false,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops reading this file.
    pub fn skip_rest(&mut self) {
        self.eof = true;
        self.pos = self.buf.len();
    }

    /// The next whole line (without its newline) and its number, or `None`
    /// at the end of the file.
    pub fn next_line(&mut self, issues: &mut Issues) -> Option<(u64, &[u8])> {
        loop {
            if self.pos < self.buf.len() {
                let rest = &self.buf[self.pos..];
                self.line += 1;
                match memchr::memchr(b'\n', rest) {
                    Some(n) => {
                        let start = self.pos;
                        self.pos += n + 1;
                        return Some((self.line, &self.buf[start..start + n]));
                    }
                    None => {
                        self.pos = self.buf.len();
                        let detail = "the last line of a frame has no end; skipped";
                        issues.report(IssueKind::Truncated, &self.path, self.line, detail);
                        continue;
                    }
                }
            }
            if self.eof || !self.next_frame(issues) {
                self.eof = true;
                return None;
            }
        }
    }

    /// Decompresses the next zstd frame into the buffer; false at the end.
    fn next_frame(&mut self, issues: &mut Issues) -> bool {
        loop {
            self.buf.clear();
            self.pos = 0;
            let start = match self.input.stream_position() {
                Ok(p) => p,
                Err(e) => return self.unreadable(issues, &e),
            };
            match self.input.fill_buf() {
                Ok([]) => return false,
                Ok(_) => {}
                Err(e) => return self.unreadable(issues, &e),
            }
            let result = zstd::stream::read::Decoder::with_buffer(&mut self.input)
                .and_then(|d| d.single_frame().read_to_end(&mut self.buf));
            let Err(e) = result else {
                if self.buf.is_empty() {
                    continue;
                }
                return true;
            };
            // Whole lines decoded before the damage are kept.
            let whole = memchr::memrchr(b'\n', &self.buf).map_or(0, |i| i + 1);
            self.buf.truncate(whole);
            let at_end = self.resync(start + 1);
            let kind = if at_end && e.kind() == io::ErrorKind::UnexpectedEof {
                IssueKind::Truncated
            } else {
                IssueKind::CorruptFrame
            };
            let lines = self.buf.iter().filter(|b| **b == b'\n').count() as u64;
            let detail = format!(
                "zstd frame at byte {start} cannot be read ({e}); the rest of it is skipped"
            );
            issues.report(kind, &self.path, self.line + lines + 1, &detail);
            if !self.buf.is_empty() {
                return true;
            }
        }
    }

    /// Moves to the next zstd frame at or after `from`; true when there is none.
    fn resync(&mut self, from: u64) -> bool {
        if self.input.seek(SeekFrom::Start(from)).is_err() {
            return true;
        }
        let mut offset = from;
        let mut window: Vec<u8> = Vec::new();
        loop {
            let chunk = match self.input.fill_buf() {
                Ok([]) | Err(_) => return true,
                Ok(chunk) => chunk,
            };
            let kept = window.len();
            window.extend_from_slice(chunk);
            let len = chunk.len();
            if let Some(i) = memchr::memmem::find(&window, &ZSTD_MAGIC) {
                let target = offset - kept as u64 + i as u64;
                return self.input.seek(SeekFrom::Start(target)).is_err();
            }
            self.input.consume(len);
            offset += len as u64;
            // Keep three bytes: a magic number may straddle two chunks.
            let tail = window.len().saturating_sub(ZSTD_MAGIC.len() - 1);
            window.drain(..tail);
        }
    }

    fn unreadable(&mut self, issues: &mut Issues, e: &io::Error) -> bool {
        issues.report(IssueKind::Unreadable, &self.path, self.line, &e.to_string());
        false
    }
}
