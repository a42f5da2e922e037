//! Alert latency: from the moment the frame holding the trade was read
//! (`Anomaly::received_at`) to the moment the alert is written.
//!
//! Two measuring points, each into an HDR histogram in nanoseconds:
//! - **subscriber**: an output subscriber actor (the extension API) records
//!   `now - received_at` as each alert reaches it;
//! - **sink**: the pipeline's JSONL sink writes into a FIFO; a reader thread
//!   stamps each alert line as it arrives and the stamp is joined, by alert id,
//!   with the `received_at` the subscriber saw. This is the alert as written
//!   by the service's own sink, plus one pipe hand-off.
//!
//! Both also watch for the segment's marker alert (see
//! [`super::frames::Marker`]), whose arrival means the pipeline has finished
//! the segment.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use actix::prelude::*;
use hdrhistogram::Histogram;
use tapewatch_actors::messages::Output;

use super::frames::Marker;

/// A histogram of nanoseconds from 1 ns to 60 s at 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("static histogram bounds are valid")
}

/// What one phase measured.
#[derive(Debug, Clone)]
pub struct PhaseLatency {
    /// At the output subscriber.
    pub subscriber: Histogram<u64>,
    /// At the JSONL sink.
    pub sink: Histogram<u64>,
}

#[derive(Default)]
struct Tracker {
    phase: usize,
    subscriber: Vec<Histogram<u64>>,
    sink: Vec<Histogram<u64>>,
    /// Alert id → (received_at, phase), for the sink join.
    received: HashMap<u64, (Instant, usize)>,
    /// (alert id, written at) read from the sink, not yet joined.
    written: Vec<(u64, Instant)>,
    marker: Option<Marker>,
    marker_seen: Option<Instant>,
    marker_written: Option<Instant>,
}

impl Tracker {
    fn is_marker(&self, symbol: &str, time_ms: i64) -> bool {
        self.marker
            .as_ref()
            .is_some_and(|m| m.symbol == symbol && m.time_ms == time_ms)
    }
}

/// Shared access to the measurements.
#[derive(Clone, Default)]
pub struct Latency(Arc<Mutex<Tracker>>);

impl Latency {
    fn lock(&self) -> MutexGuard<'_, Tracker> {
        // A panic while holding the lock leaves only counters behind.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a new phase that ends with `marker`; returns its index.
    pub fn begin_phase(&self, marker: Option<Marker>) -> usize {
        let mut t = self.lock();
        t.subscriber.push(histogram());
        t.sink.push(histogram());
        t.phase = t.subscriber.len() - 1;
        t.marker = marker;
        t.marker_seen = None;
        t.marker_written = None;
        t.phase
    }

    /// When the marker reached the subscriber and the sink.
    pub fn marker(&self) -> (Option<Instant>, Option<Instant>) {
        let t = self.lock();
        (t.marker_seen, t.marker_written)
    }

    /// Joins what the sink wrote so far and returns the phase's histograms.
    pub fn phase(&self, phase: usize) -> PhaseLatency {
        let mut t = self.lock();
        let written = std::mem::take(&mut t.written);
        let mut pending = Vec::new();
        for (id, at) in written {
            match t.received.get(&id).copied() {
                Some((rx, p)) => {
                    let ns = at.saturating_duration_since(rx).as_nanos() as u64;
                    if let Some(h) = t.sink.get_mut(p) {
                        h.saturating_record(ns.max(1));
                    }
                }
                None => pending.push((id, at)),
            }
        }
        t.written = pending;
        PhaseLatency {
            subscriber: t.subscriber.get(phase).cloned().unwrap_or_else(histogram),
            sink: t.sink.get(phase).cloned().unwrap_or_else(histogram),
        }
    }
}

/// The output subscriber that records alert latency.
pub struct Recorder(pub Latency);

impl Actor for Recorder {
    type Context = Context<Self>;
}

impl Handler<Output> for Recorder {
    type Result = ();

    fn handle(&mut self, msg: Output, _: &mut Context<Self>) {
        let now = Instant::now();
        let Output::Alert(alert) = msg else {
            return;
        };
        let mut t = self.0.lock();
        let phase = t.phase;
        if let Some(rx) = alert.received_at {
            let ns = now.saturating_duration_since(rx).as_nanos() as u64;
            if let Some(h) = t.subscriber.get_mut(phase) {
                h.saturating_record(ns.max(1));
            }
            t.received.insert(alert.id, (rx, phase));
        }
        if t.is_marker(&alert.symbol, alert.event_time_ms) {
            t.marker_seen = Some(now);
        }
    }
}

/// The alert fields read back from a sink line.
#[derive(serde::Deserialize)]
struct SinkLine {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    id: u64,
    #[serde(default)]
    symbol: String,
    #[serde(default)]
    event_time_ms: i64,
}

/// A FIFO the pipeline's JSONL sink writes into, read by a thread.
pub struct SinkTap {
    /// Where the sink must write (`[output] alerts_file`).
    pub path: PathBuf,
    writer: std::fs::File,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SinkTap {
    /// Creates the FIFO in the temp directory and starts reading it.
    pub fn start(latency: Latency) -> std::io::Result<SinkTap> {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("tapewatch-bench-{}-{n}.fifo", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(std::io::Error::other)?;
        // SAFETY: c_path is a valid NUL-terminated string that outlives the call.
        if unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // Opened for reading and writing, so the reader never sees end-of-file
        // while the sink reopens the file, and so that `stop` can wake it.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)?;
        let writer = file.try_clone()?;
        let thread = std::thread::Builder::new()
            .name("bench-sink-tap".into())
            .spawn(move || read_lines(file, latency))?;
        Ok(SinkTap {
            path,
            writer,
            thread: Some(thread),
        })
    }

    /// Stops the reader and removes the FIFO.
    pub fn stop(mut self) {
        let _ = self.writer.write_all(b"{\"type\":\"stop\"}\n");
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

fn read_lines(file: std::fs::File, latency: Latency) {
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let now = Instant::now();
        let Ok(parsed) = serde_json::from_str::<SinkLine>(&line) else {
            continue;
        };
        match parsed.kind.as_str() {
            "stop" => return,
            "alert" => {
                let mut t = latency.lock();
                t.written.push((parsed.id, now));
                if t.is_marker(&parsed.symbol, parsed.event_time_ms) {
                    t.marker_written = Some(now);
                }
            }
            _ => {}
        }
    }
}

/// Quantiles of a nanosecond histogram, in microseconds.
pub fn quantiles_us(h: &Histogram<u64>) -> [f64; 4] {
    let us = |q: f64| h.value_at_quantile(q) as f64 / 1_000.0;
    [us(0.5), us(0.99), us(0.999), h.max() as f64 / 1_000.0]
}
