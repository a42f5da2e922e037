//! The recording format: what `tapewatch run --record DIR` writes and
//! `tapewatch replay` reads back.
//!
//! A recording is zstd-compressed NDJSON, one file per feed per hour of
//! receive time (UTC): `DIR/<feed>/YYYY-MM-DD/HH.ndjson.zst`. Each file is a
//! sequence of closed zstd frames (a frame ends every few seconds or
//! megabytes), so a crash loses at most the frame being written, and
//! `zstd -dc FILE | head` reads it. Every line is one JSON object:
//!
//! | line | meaning |
//! |---|---|
//! | `{"v":1,"tapewatch":"recording","feed":F,"provider":P,"t":NS}` | header: first line of every file (and again after each reopening) |
//! | `{"t":NS,"c":N,"in":FRAME}` | a text frame received on connection `N`, embedded as it is: a UTF-8 array or object on one line |
//! | `{"t":NS,"c":N,"in_text":S}` | any other received text frame, as a string |
//! | `{"t":NS,"c":N,"out":S}` | a frame we sent; the auth message is `"[redacted]"` |
//! | `{"t":NS,"c":N,"ev":"connected","url":U}` | connection `N` opened |
//! | `{"t":NS,"c":N,"ev":"subscribed","topic":T}` | the provider acknowledged a topic |
//! | `{"t":NS,"c":N,"ev":"disconnected","reason":R}` | connection `N` ended |
//! | `{"t":NS,"gap":K}` | `K` entries before this point were shed (queue full or disk failing) |
//!
//! `t` is the receive (or send) time in nanoseconds since the Unix epoch.
//! Readers skip fields and line types they do not know; a header with a
//! larger `v` means a format this version cannot read.

use std::borrow::Cow;
use std::io::Write;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

pub mod hour_file;
pub mod reader;
pub mod source;

#[cfg(test)]
mod tests;

/// The format version written in every header.
pub const FORMAT_VERSION: u64 = 1;

/// What the sent auth message is recorded as: credentials never reach disk.
pub const REDACTED: &str = "[redacted]";

/// One thing worth recording about a connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// A text frame exactly as received.
    Received(Bytes),
    /// A frame we sent (already redacted where it carries credentials).
    Sent(String),
    /// The connection opened to this URL.
    Connected(String),
    /// The provider acknowledged this topic.
    Subscribed(String),
    /// The connection ended, for this reason.
    Disconnected(String),
}

/// An entry with its time and connection number.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamped {
    /// Nanoseconds since the Unix epoch.
    pub t_ns: u64,
    /// The session's connection number.
    pub conn: u64,
    /// What happened.
    pub entry: Entry,
}

/// Nanoseconds since the Unix epoch, now.
pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Appends the header line of a file.
pub fn encode_header(feed: &str, provider: &str, t_ns: u64, out: &mut Vec<u8>) {
    #[derive(serde::Serialize)]
    struct Header<'a> {
        v: u64,
        tapewatch: &'a str,
        feed: &'a str,
        provider: &'a str,
        t: u64,
    }
    let header = Header {
        v: FORMAT_VERSION,
        tapewatch: "recording",
        feed,
        provider,
        t: t_ns,
    };
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &header);
    out.push(b'\n');
}

/// Appends the line that marks `lost` shed entries.
pub fn encode_gap(t_ns: u64, lost: u64, out: &mut Vec<u8>) {
    let _ = writeln!(out, "{{\"t\":{t_ns},\"gap\":{lost}}}");
}

/// Appends one entry as a line.
pub fn encode(stamped: &Stamped, out: &mut Vec<u8>) {
    let _ = write!(out, "{{\"t\":{},\"c\":{}", stamped.t_ns, stamped.conn);
    let (key, text) = match &stamped.entry {
        Entry::Received(bytes) if is_json_line(bytes) => {
            out.extend_from_slice(b",\"in\":");
            out.extend_from_slice(bytes);
            out.extend_from_slice(b"}\n");
            return;
        }
        Entry::Received(bytes) => ("in_text", String::from_utf8_lossy(bytes)),
        Entry::Sent(text) => ("out", Cow::Borrowed(text.as_str())),
        Entry::Connected(url) => {
            out.extend_from_slice(b",\"ev\":\"connected\"");
            ("url", Cow::Borrowed(url.as_str()))
        }
        Entry::Subscribed(topic) => {
            out.extend_from_slice(b",\"ev\":\"subscribed\"");
            ("topic", Cow::Borrowed(topic.as_str()))
        }
        Entry::Disconnected(reason) => {
            out.extend_from_slice(b",\"ev\":\"disconnected\"");
            ("reason", Cow::Borrowed(reason.as_str()))
        }
    };
    let _ = write!(out, ",\"{key}\":");
    let _ = serde_json::to_writer(&mut *out, &text);
    out.extend_from_slice(b"}\n");
}

/// True when `bytes` looks like one JSON array or object on one line, so it
/// is embedded as it is; anything else is recorded as a string.
///
/// This is a shape check, not a parse: a full JSON parse of every frame
/// would double the writer's cost at millions of events a second. Providers
/// send JSON, so in practice every embedded frame is JSON; a hostile frame
/// that only looks like it makes a line that JSON tools reject, and replay,
/// which reads the fixed layout of a received-frame line without a JSON
/// parser, still gets its bytes back exactly.
fn is_json_line(bytes: &[u8]) -> bool {
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    matches!((first, last), (b'[', b']') | (b'{', b'}'))
        && memchr::memchr2(b'\n', b'\r', bytes).is_none()
        && std::str::from_utf8(bytes).is_ok()
}

/// A line as read back.
#[derive(Debug, PartialEq)]
pub enum Line<'a> {
    /// A file header.
    Header {
        /// Format version.
        version: u64,
        /// Feed name.
        feed: String,
        /// Provider name.
        provider: String,
    },
    /// A received frame.
    Received {
        /// Receive time, ns since the epoch.
        t_ns: u64,
        /// Connection number.
        conn: u64,
        /// The frame's bytes.
        frame: Cow<'a, [u8]>,
    },
    /// A gap of `lost` shed entries.
    Gap {
        /// When the gap was noticed.
        t_ns: u64,
        /// How many entries were lost.
        lost: u64,
    },
    /// Anything else (sent frames, connection events): kept for readers,
    /// not replayed.
    Other {
        /// Its time.
        t_ns: u64,
    },
}

/// Why a line could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LineError {
    /// Not JSON, or not an object of this format.
    #[error("not a recording line: {0}")]
    NotJson(String),
    /// A JSON object with none of the fields a line must have.
    #[error("a line without a time or a header")]
    Unknown,
}

#[derive(Deserialize)]
struct AnyLine<'a> {
    v: Option<u64>,
    feed: Option<String>,
    provider: Option<String>,
    t: Option<u64>,
    c: Option<u64>,
    #[serde(borrow, rename = "in")]
    frame: Option<&'a RawValue>,
    in_text: Option<String>,
    gap: Option<u64>,
}

/// Reads one line (without its newline).
pub fn parse(line: &[u8]) -> Result<Line<'_>, LineError> {
    if let Some(fast) = parse_received_fast(line) {
        return Ok(fast);
    }
    let any: AnyLine<'_> =
        serde_json::from_slice(line).map_err(|e| LineError::NotJson(e.to_string()))?;
    if let Some(version) = any.v {
        return Ok(Line::Header {
            version,
            feed: any.feed.unwrap_or_default(),
            provider: any.provider.unwrap_or_default(),
        });
    }
    let t_ns = any.t.ok_or(LineError::Unknown)?;
    let conn = any.c.unwrap_or(0);
    if let Some(raw) = any.frame {
        let frame = Cow::Owned(raw.get().as_bytes().to_vec());
        return Ok(Line::Received { t_ns, conn, frame });
    }
    if let Some(text) = any.in_text {
        let frame = Cow::Owned(text.into_bytes());
        return Ok(Line::Received { t_ns, conn, frame });
    }
    if let Some(lost) = any.gap {
        return Ok(Line::Gap { t_ns, lost });
    }
    Ok(Line::Other { t_ns })
}

/// The layout [`encode`] writes for a JSON frame, read without a JSON
/// parser: `{"t":NS,"c":N,"in":FRAME}`. The frame itself is not checked
/// here; the provider's decoder reads anything safely.
fn parse_received_fast(line: &[u8]) -> Option<Line<'_>> {
    let rest = line.strip_prefix(b"{\"t\":")?;
    let (t_ns, rest) = leading_u64(rest)?;
    let rest = rest.strip_prefix(b",\"c\":")?;
    let (conn, rest) = leading_u64(rest)?;
    let frame = rest.strip_prefix(b",\"in\":")?.strip_suffix(b"}")?;
    if frame.is_empty() {
        return None;
    }
    Some(Line::Received {
        t_ns,
        conn,
        frame: Cow::Borrowed(frame),
    })
}

fn leading_u64(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 20 {
        return None;
    }
    let text = std::str::from_utf8(&bytes[..digits]).ok()?;
    Some((text.parse().ok()?, &bytes[digits..]))
}
