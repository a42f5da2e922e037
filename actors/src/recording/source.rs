//! A recording as a stream of received frames: a file, a feed's directory or
//! a whole recording directory (one directory per feed), the feeds merged by
//! receive time.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::reader::{FileReader, IssueKind, Issues};
use super::{parse, Line, FORMAT_VERSION};

/// The file name ending of recording files.
pub const EXTENSION: &str = ".ndjson.zst";

/// Why a recording cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The path does not exist.
    #[error("{0}: no such file or directory")]
    Missing(PathBuf),
    /// The path holds no recording file.
    #[error("{0}: no recording files (*{EXTENSION}) found")]
    Empty(PathBuf),
    /// A directory could not be listed.
    #[error("{path}: {error}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// What went wrong.
        error: std::io::Error,
    },
}

/// One received frame, in merged order.
#[derive(Debug, Clone)]
pub struct Record {
    /// Receive time, ns since the epoch.
    pub t_ns: u64,
    /// Index of its feed in [`Recording::feeds`].
    pub feed: usize,
    /// The frame.
    pub frame: Bytes,
}

/// What a feed is, from its first header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedInfo {
    /// The feed's name.
    pub name: String,
    /// Its provider (`polygon`, `alpaca`), empty when no header said.
    pub provider: String,
}

/// One feed's files, read in order.
struct FeedFiles {
    files: VecDeque<PathBuf>,
    reader: Option<FileReader>,
    info: FeedInfo,
}

/// A recording opened for replay: an iterator of [`Record`]s in receive-time
/// order across feeds.
pub struct Recording {
    feeds: Vec<FeedFiles>,
    heads: BinaryHeap<Reverse<(u64, usize)>>,
    pending: Vec<Option<Record>>,
    /// Problems found so far.
    pub issues: Issues,
    /// Entries the recorder reported shed (gap lines).
    pub lost: u64,
    /// Files opened so far.
    pub files_read: u64,
}

impl Recording {
    /// Opens a file, a feed directory or a recording directory.
    pub fn open(path: &Path) -> Result<Recording, OpenError> {
        if !path.exists() {
            return Err(OpenError::Missing(path.to_owned()));
        }
        let files = recording_files(path)?;
        if files.is_empty() {
            return Err(OpenError::Empty(path.to_owned()));
        }
        // A feed is the directory above the date directories.
        let mut groups: BTreeMap<PathBuf, VecDeque<PathBuf>> = BTreeMap::new();
        for file in files {
            let feed_dir = file
                .parent()
                .and_then(Path::parent)
                .map(Path::to_path_buf)
                .unwrap_or_default();
            groups.entry(feed_dir).or_default().push_back(file);
        }
        let feeds: Vec<FeedFiles> = groups
            .into_iter()
            .map(|(dir, files)| FeedFiles {
                files,
                reader: None,
                info: FeedInfo {
                    name: dir
                        .file_name()
                        .map_or_else(|| "feed".to_owned(), |n| n.to_string_lossy().into_owned()),
                    provider: String::new(),
                },
            })
            .collect();
        let mut recording = Recording {
            pending: vec![None; feeds.len()],
            feeds,
            heads: BinaryHeap::new(),
            issues: Issues::default(),
            lost: 0,
            files_read: 0,
        };
        // Read each feed's first frame, which also reads its header.
        for i in 0..recording.feeds.len() {
            recording.advance(i);
        }
        Ok(recording)
    }

    /// The feeds, as their headers name them.
    pub fn feeds(&self) -> Vec<FeedInfo> {
        self.feeds.iter().map(|f| f.info.clone()).collect()
    }

    /// Reads feed `i`'s next frame into its pending slot.
    fn advance(&mut self, i: usize) {
        if let Some(record) = self.read_frame(i) {
            self.heads.push(Reverse((record.t_ns, i)));
            self.pending[i] = Some(record);
        }
    }

    fn read_frame(&mut self, i: usize) -> Option<Record> {
        loop {
            let feed = &mut self.feeds[i];
            if feed.reader.is_none() {
                let path = feed.files.pop_front()?;
                self.files_read += 1;
                match FileReader::open(&path) {
                    Ok(reader) => feed.reader = Some(reader),
                    Err(e) => {
                        self.issues
                            .report(IssueKind::Unreadable, &path, 0, &e.to_string());
                        continue;
                    }
                }
            }
            let reader = feed.reader.as_mut()?;
            let Some((line_no, line)) = reader.next_line(&mut self.issues) else {
                feed.reader = None;
                continue;
            };
            match parse(line) {
                Ok(Line::Received { t_ns, frame, .. }) => {
                    let frame = Bytes::copy_from_slice(&frame);
                    return Some(Record {
                        t_ns,
                        feed: i,
                        frame,
                    });
                }
                Ok(Line::Header { version, .. }) if version > FORMAT_VERSION => {
                    let detail = format!(
                        "format version {version} is newer than this tapewatch reads \
                         ({FORMAT_VERSION}); the rest of the file is skipped"
                    );
                    let path = reader.path().to_owned();
                    reader.skip_rest();
                    self.issues
                        .report(IssueKind::NewerVersion, &path, line_no, &detail);
                }
                Ok(Line::Header { feed, provider, .. }) => {
                    if !feed.is_empty() {
                        self.feeds[i].info.name = feed;
                    }
                    if !provider.is_empty() {
                        self.feeds[i].info.provider = provider;
                    }
                }
                Ok(Line::Gap { t_ns, lost }) => {
                    self.lost += lost;
                    let path = reader.path().display().to_string();
                    tracing::warn!(file = %path, line = line_no, t_ns, lost, "the recording has a gap: the recorder shed entries here");
                }
                Ok(Line::Other { .. }) => {}
                Err(e) => {
                    let path = reader.path().to_owned();
                    self.issues
                        .report(IssueKind::BadLine, &path, line_no, &e.to_string());
                }
            }
        }
    }
}

impl Iterator for Recording {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        let Reverse((_, i)) = self.heads.pop()?;
        let record = self.pending[i].take();
        self.advance(i);
        record
    }
}

/// Every recording file at or under `path`, sorted by path (which sorts
/// each feed's files by time).
pub fn recording_files(path: &Path) -> Result<Vec<PathBuf>, OpenError> {
    let mut files = Vec::new();
    collect(path, &mut files)?;
    files.sort();
    Ok(files)
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), OpenError> {
    if path.is_file() {
        out.push(path.to_owned());
        return Ok(());
    }
    let io = |error| OpenError::Io {
        path: path.to_owned(),
        error,
    };
    for entry in std::fs::read_dir(path).map_err(io)? {
        let entry = entry.map_err(io)?;
        let p = entry.path();
        if p.is_dir() {
            collect(&p, out)?;
        } else if p.to_string_lossy().ends_with(EXTENSION) {
            out.push(p);
        }
    }
    Ok(())
}
