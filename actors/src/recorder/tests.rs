use std::path::Path;

use super::*;
use crate::recording::source::{recording_files, Recording};

/// Every line of every recording file under `dir`, decompressed.
fn lines(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for p in recording_files(dir).expect("listed") {
        let bytes = std::fs::read(&p).expect("read");
        let text = zstd::decode_all(&bytes[..]).expect("whole zstd frames");
        out.extend(
            String::from_utf8(text)
                .expect("utf-8")
                .lines()
                .map(str::to_owned),
        );
    }
    out
}

/// A recorder of feed `stocks` into `dir`.
fn start(dir: &Path, metrics: &Metrics) -> Recorder {
    Recorder::start(&config(dir), dir, "stocks", "polygon", metrics).expect("starts")
}

fn config(dir: &Path) -> RecordConfig {
    RecordConfig {
        dir: Some(dir.to_owned()),
        ..RecordConfig::default()
    }
}

#[test]
fn frames_events_and_sent_frames_reach_the_file_with_the_auth_redacted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let metrics = Metrics::new();
    let recorder = start(dir.path(), &metrics);
    recorder.event(1, Entry::Connected("ws://127.0.0.1:9/stocks".into()));
    recorder.sent_auth(1);
    recorder.sent(1, r#"{"action":"subscribe","params":"T.*"}"#);
    recorder.event(1, Entry::Subscribed("T.*".into()));
    recorder.received(
        1,
        &Bytes::from_static(br#"[{"ev":"T","sym":"A","p":1,"s":2,"t":3}]"#),
    );
    recorder.event(1, Entry::Disconnected("server closed".into()));
    assert!(recorder.finish(Duration::from_secs(5)));
    let lines = lines(dir.path());
    assert_eq!(lines.len(), 7, "{lines:#?}");
    assert!(
        lines[0].starts_with(
            r#"{"v":1,"tapewatch":"recording","feed":"stocks","provider":"polygon","t":"#
        ),
        "{}",
        lines[0]
    );
    assert!(lines[2].ends_with(r#""out":"[redacted]"}"#), "{}", lines[2]);
    assert!(lines[5].ends_with(r#","in":[{"ev":"T","sym":"A","p":1,"s":2,"t":3}]}"#));
    assert!(lines[6].contains(r#""ev":"disconnected""#));
    let mut recording = Recording::open(dir.path()).expect("opens");
    assert_eq!(recording.by_ref().count(), 1);
    assert_eq!(metrics.dropped("recorder").get(), 0);
}

#[test]
fn an_unwritable_directory_is_an_error_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").expect("write");
    let err = Recorder::start(&config(&file), &file, "stocks", "polygon", &Metrics::new())
        .expect_err("a file is no directory");
    assert!(err.to_string().contains("cannot record into"), "{err}");
}

#[test]
fn a_full_queue_sheds_counts_and_marks_the_gap_before_the_next_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let metrics = Metrics::new();
    // A queue of one that nobody drains yet.
    let (tx, rx) = sync_channel(1);
    let recorder = Recorder {
        tx,
        lost: Arc::default(),
        dropped: metrics.dropped("recorder"),
    };
    for i in 0..4u8 {
        recorder.received(1, &Bytes::from(format!("[{i}]")));
    }
    assert_eq!(metrics.dropped("recorder").get(), 3);
    let settings = FileSettings {
        level: 1,
        frame_bytes: 1 << 20,
        frame_interval: Duration::from_secs(1),
    };
    let mut writer = Writer {
        files: HourFiles::new(dir.path(), "stocks", "polygon", settings),
        line: Vec::new(),
        errors: metrics.record_errors.clone(),
        dropped: metrics.dropped("recorder"),
        failing_since: None,
        lost: 0,
        tick: Duration::from_millis(10),
    };
    // The writer takes the one queued entry; the next one then fits.
    let Ok(Command::Entry { stamped, lost }) = rx.try_recv() else {
        panic!("the first entry is queued");
    };
    writer.write(&stamped, lost);
    recorder.received(1, &Bytes::from_static(b"[9]"));
    assert_eq!(metrics.dropped("recorder").get(), 3);
    let thread = std::thread::spawn(move || writer.run(&rx));
    assert!(recorder.finish(Duration::from_secs(5)));
    thread.join().expect("writer ends");
    let lines = lines(dir.path());
    let body: Vec<&str> = lines[1..].iter().map(String::as_str).collect();
    assert_eq!(body.len(), 3, "{body:?}");
    assert!(body[0].ends_with(r#","in":[0]}"#), "{}", body[0]);
    assert!(body[1].ends_with(r#","gap":3}"#), "{}", body[1]);
    assert!(body[2].ends_with(r#","in":[9]}"#), "{}", body[2]);
}

#[test]
fn a_failing_disk_is_counted_and_recording_resumes_when_it_heals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let metrics = Metrics::new();
    let recorder = start(dir.path(), &metrics);
    // The feed's directory is a file: no hour file can be created under it.
    let blocker = dir.path().join("stocks");
    std::fs::write(&blocker, b"in the way").expect("write");
    recorder.received(1, &Bytes::from_static(b"[1]"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while metrics.record_errors.get() == 0 {
        assert!(Instant::now() < deadline, "the failure is counted");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::fs::remove_file(&blocker).expect("heal");
    // Entries keep coming; after the retry delay one gets through.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !blocker.is_dir() {
        assert!(Instant::now() < deadline, "recording resumes");
        recorder.received(1, &Bytes::from_static(b"[2]"));
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(recorder.finish(Duration::from_secs(5)));
    let lines = lines(dir.path());
    assert!(
        lines.iter().any(|l| l.contains(r#""gap":"#)),
        "the entries lost while failing are marked: {lines:#?}"
    );
    assert!(metrics.dropped("recorder").get() >= 1);
}
