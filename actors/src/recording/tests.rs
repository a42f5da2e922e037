use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;

use super::hour_file::{relative_path, FileSettings, HourFiles};
use super::reader::{FileReader, IssueKind, Issues};
use super::source::{OpenError, Recording};
use super::*;

const T0: u64 = 1_764_349_200_000_000_000; // 2025-11-28T17:00:00Z

fn line(stamped: &Stamped) -> Vec<u8> {
    let mut out = Vec::new();
    encode(stamped, &mut out);
    out
}

fn stamped(entry: Entry) -> Stamped {
    Stamped {
        t_ns: T0 + 5,
        conn: 3,
        entry,
    }
}

#[test]
fn every_entry_encodes_to_one_json_line_and_reads_back() {
    let frame = r#"[{"ev":"T","sym":"AAPL","p":1.5,"s":100,"t":1}]"#;
    let cases: Vec<(Entry, &str, Option<&[u8]>)> = vec![
        (
            Entry::Received(Bytes::from_static(frame.as_bytes())),
            r#"{"t":1764349200000000005,"c":3,"in":[{"ev":"T","sym":"AAPL","p":1.5,"s":100,"t":1}]}"#,
            Some(frame.as_bytes()),
        ),
        (
            Entry::Received(Bytes::from_static(b"[{\"ev\":")),
            r#"{"t":1764349200000000005,"c":3,"in_text":"[{\"ev\":"}"#,
            Some(b"[{\"ev\":"),
        ),
        (
            Entry::Received(Bytes::from_static(b"[1,\n2]")),
            r#"{"t":1764349200000000005,"c":3,"in_text":"[1,\n2]"}"#,
            Some(b"[1,\n2]"),
        ),
        (
            Entry::Sent(r#"{"action":"subscribe","params":"T.*"}"#.to_owned()),
            r#"{"t":1764349200000000005,"c":3,"out":"{\"action\":\"subscribe\",\"params\":\"T.*\"}"}"#,
            None,
        ),
        (
            Entry::Connected("ws://127.0.0.1:1/stocks".to_owned()),
            r#"{"t":1764349200000000005,"c":3,"ev":"connected","url":"ws://127.0.0.1:1/stocks"}"#,
            None,
        ),
        (
            Entry::Subscribed("T.*".to_owned()),
            r#"{"t":1764349200000000005,"c":3,"ev":"subscribed","topic":"T.*"}"#,
            None,
        ),
        (
            Entry::Disconnected("server closed".to_owned()),
            r#"{"t":1764349200000000005,"c":3,"ev":"disconnected","reason":"server closed"}"#,
            None,
        ),
    ];
    for (entry, expected, frame) in cases {
        let encoded = line(&stamped(entry.clone()));
        let text = String::from_utf8(encoded.clone()).expect("utf-8");
        assert_eq!(text, format!("{expected}\n"), "{entry:?}");
        serde_json::from_str::<serde_json::Value>(expected).expect("valid JSON");
        let parsed = parse(&encoded[..encoded.len() - 1]).expect("reads back");
        match frame {
            Some(bytes) => assert_eq!(
                parsed,
                Line::Received {
                    t_ns: T0 + 5,
                    conn: 3,
                    frame: Cow::Borrowed(bytes)
                }
            ),
            None => assert_eq!(parsed, Line::Other { t_ns: T0 + 5 }),
        }
    }
}

#[test]
fn a_frame_shaped_like_json_is_embedded_and_comes_back_byte_for_byte() {
    // Not JSON, but of its shape: embedded, and read back by layout.
    let frame = Bytes::from_static(b"[1 2, \"}\"]");
    let encoded = line(&stamped(Entry::Received(frame.clone())));
    assert!(encoded.starts_with(b"{\"t\":1764349200000000005,\"c\":3,\"in\":[1 2"));
    assert_eq!(
        parse(encoded.trim_ascii_end()),
        Ok(Line::Received {
            t_ns: T0 + 5,
            conn: 3,
            frame: Cow::Borrowed(&frame[..])
        })
    );
    // Not UTF-8: a string, made readable.
    let encoded = line(&stamped(Entry::Received(Bytes::from_static(b"[\xff]"))));
    assert!(encoded.ends_with("\"in_text\":\"[\u{fffd}]\"}\n".as_bytes()));
}

#[test]
fn headers_gaps_and_bad_lines_parse_as_such() {
    let mut header = Vec::new();
    encode_header("stocks", "polygon", T0, &mut header);
    assert_eq!(
        parse(header.trim_ascii_end()),
        Ok(Line::Header {
            version: FORMAT_VERSION,
            feed: "stocks".into(),
            provider: "polygon".into()
        })
    );
    let mut gap = Vec::new();
    encode_gap(T0, 7, &mut gap);
    assert_eq!(
        parse(gap.trim_ascii_end()),
        Ok(Line::Gap { t_ns: T0, lost: 7 })
    );
    assert!(matches!(parse(b"not json"), Err(LineError::NotJson(_))));
    assert!(matches!(
        parse(b"{\"t\":1,\"c\":"),
        Err(LineError::NotJson(_))
    ));
    assert_eq!(parse(b"{\"x\":1}"), Err(LineError::Unknown));
    // A later version's unknown fields and lines are skipped, not errors.
    assert_eq!(
        parse(br#"{"t":9,"c":1,"new":"thing"}"#),
        Ok(Line::Other { t_ns: 9 })
    );
}

#[test]
fn hour_paths_follow_utc_date_and_hour() {
    assert_eq!(
        relative_path(T0 + 59 * 60 * 1_000_000_000),
        PathBuf::from("2025-11-28/17.ndjson.zst")
    );
    assert_eq!(
        relative_path(T0 + 7 * 3_600_000_000_000),
        PathBuf::from("2025-11-29/00.ndjson.zst")
    );
}

fn settings(frame_bytes: usize) -> FileSettings {
    FileSettings {
        level: 3,
        frame_bytes,
        frame_interval: Duration::from_secs(60),
    }
}

/// Writes `n` frames of feed `feed`, one every `step` ns from `start`, in
/// zstd frames of about `frame_bytes`; returns the feed directory.
fn write_feed(dir: &Path, feed: &str, start: u64, step: u64, n: u64, frame_bytes: usize) {
    let mut files = HourFiles::new(dir, feed, "polygon", settings(frame_bytes));
    for i in 0..n {
        let t = start + i * step;
        let frame = format!(r#"[{{"ev":"T","sym":"{feed}","p":1,"s":{i},"t":1}}]"#);
        let entry = Stamped {
            t_ns: t,
            conn: 1,
            entry: Entry::Received(Bytes::from(frame)),
        };
        files.write(t, &line(&entry)).expect("write");
    }
    files.close().expect("close");
}

fn sizes(recording: Recording) -> (Vec<(u64, usize)>, Issues) {
    let mut recording = recording;
    let mut out = Vec::new();
    for r in recording.by_ref() {
        let text = String::from_utf8(r.frame.to_vec()).expect("utf-8");
        let v: serde_json::Value = serde_json::from_str(&text).expect("frame is JSON");
        out.push((v[0]["s"].as_u64().expect("size"), r.feed));
    }
    (out, std::mem::take(&mut recording.issues))
}

fn only_file(dir: &Path) -> PathBuf {
    let mut files = super::source::recording_files(dir).expect("listed");
    assert_eq!(files.len(), 1, "{files:?}");
    files.remove(0)
}

#[test]
fn feeds_are_merged_by_receive_time_across_hours() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Stocks every 20 minutes, options every 30, across four hours.
    write_feed(dir.path(), "stocks", T0, 1_200_000_000_000, 10, 1 << 20);
    write_feed(dir.path(), "options", T0 + 1, 1_800_000_000_000, 7, 1 << 20);
    let recording = Recording::open(dir.path()).expect("opens");
    let names: Vec<String> = recording.feeds().into_iter().map(|f| f.name).collect();
    assert_eq!(names, ["options", "stocks"]);
    assert_eq!(recording.feeds()[0].provider, "polygon");
    let mut times = Vec::new();
    let mut rec = recording;
    for r in rec.by_ref() {
        times.push(r.t_ns);
    }
    assert_eq!(times.len(), 17);
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "merged in order");
    assert_eq!(rec.issues.total(), 0);
    assert_eq!(rec.files_read, 4 + 4);
    // One feed directory alone gives that feed alone.
    let (only_stocks, _) = sizes(Recording::open(&dir.path().join("stocks")).expect("opens"));
    assert_eq!(only_stocks.len(), 10);
}

#[test]
fn a_corrupt_frame_is_reported_and_skipped_and_reading_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Small frames: about ten lines each.
    write_feed(dir.path(), "stocks", T0, 1_000, 100, 500);
    let file = only_file(dir.path());
    let mut bytes = std::fs::read(&file).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xFF;
    bytes[middle + 1] ^= 0xFF;
    std::fs::write(&file, &bytes).expect("write");
    let (got, issues) = sizes(Recording::open(&file).expect("opens"));
    assert_eq!(issues.count(IssueKind::CorruptFrame), 1);
    assert!(got.len() >= 80 && got.len() < 100, "{} frames", got.len());
    // What is read is in order and unharmed, up to the end of the file.
    assert!(got.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(got.last().map(|g| g.0), Some(99));
}

#[test]
fn a_truncated_file_gives_its_whole_lines_and_reports_the_cut() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Frames of about ten lines: the cut costs the last one alone.
    write_feed(dir.path(), "stocks", T0, 1_000, 50, 500);
    let file = only_file(dir.path());
    let bytes = std::fs::read(&file).expect("read");
    std::fs::write(&file, &bytes[..bytes.len() - 20]).expect("write");
    let (got, issues) = sizes(Recording::open(&file).expect("opens"));
    assert_eq!(issues.count(IssueKind::Truncated), 1, "{issues:?}");
    assert!(got.len() >= 35 && got.len() < 50, "{} frames", got.len());
    let expected: Vec<u64> = (0..got.len() as u64).collect();
    assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), expected);
}

fn write_raw(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let compressed = zstd::encode_all(text.as_bytes(), 3).expect("compress");
    std::fs::write(path, compressed).expect("write");
}

#[test]
fn bad_lines_and_newer_versions_are_reported_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("stocks/2025-11-28/17.ndjson.zst");
    let frame = r#"{"t":5,"c":1,"in":[{"ev":"T","sym":"A","p":1,"s":1,"t":1}]}"#;
    let text = format!(
        "{{\"v\":1,\"tapewatch\":\"recording\",\"feed\":\"stocks\",\"provider\":\"polygon\",\"t\":1}}\n\
         {frame}\nthis is not json\n{frame}\n"
    );
    write_raw(&good, &text);
    let newer = dir.path().join("stocks/2025-11-28/18.ndjson.zst");
    write_raw(&newer, &format!("{{\"v\":2,\"t\":1}}\n{frame}\n"));
    let (got, issues) = sizes(Recording::open(dir.path()).expect("opens"));
    assert_eq!(got.len(), 2);
    assert_eq!(issues.count(IssueKind::BadLine), 1);
    assert_eq!(issues.count(IssueKind::NewerVersion), 1);
    // The reader numbers lines from 1 within each file.
    let mut reader = FileReader::open(&good).expect("open");
    let mut issues = Issues::default();
    let numbers: Vec<u64> =
        std::iter::from_fn(|| reader.next_line(&mut issues).map(|(n, _)| n)).collect();
    assert_eq!(numbers, [1, 2, 3, 4]);
}

#[test]
fn a_missing_or_empty_path_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(matches!(
        Recording::open(&dir.path().join("nope")),
        Err(OpenError::Missing(_))
    ));
    assert!(matches!(
        Recording::open(dir.path()),
        Err(OpenError::Empty(_))
    ));
}
