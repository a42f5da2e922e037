//! Recording and replay: the throughput feed paced at 2 M events/s with
//! recording off and on (what recording costs the live pipeline), the bytes
//! on disk per trade event, and the recording replayed as fast as possible
//! (decompression included).

use std::path::Path;
use std::sync::Arc;

use tapewatch::actors::recording::source::{recording_files, Recording};
use tapewatch::actors::secret::{ApiKey, Credentials};
use tapewatch::config::{Config, StdoutFormat};
use tapewatch::replay::{self, Window};

use super::frames::FrameSet;
use super::harness::Rig;
use super::report::{self, Report, Verdict};
use super::scenarios::describe;
use super::sizes::{throughput_frames, Sizes};

const S: &str = "record";
/// The live pace the recording's cost is measured at.
const PACE: u64 = 2_000_000;

/// Runs the scenario; the recording goes to a directory under the system's
/// temporary directory, removed at the end.
pub async fn record(sizes: &Sizes, report: &mut Report) -> Result<(), String> {
    let set = throughput_frames(sizes, sizes.throughput_events);
    let dir = std::env::temp_dir().join(format!("tapewatch-bench-record-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let result = measure(&set, &dir, report).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(set: &Arc<FrameSet>, dir: &Path, report: &mut Report) -> Result<(), String> {
    report.detail(
        S,
        format!(
            "{} events of the throughput feed, {} events/frame, {} pre-serialised; recording into {}",
            set.events(),
            set.events_per_frame,
            report::bytes(set.bytes),
            dir.display()
        ),
    );
    let mut rates = Vec::new();
    for recording in [false, true] {
        let target = dir.to_path_buf();
        let rig = Rig::start(|c| {
            if recording {
                c.record.dir = Some(target);
            }
        })
        .await?;
        let r = rig.run_segment(set, 0, Some(PACE)).await;
        let dropped = rig.pipeline.metrics.dropped("recorder").get();
        rig.stop().await;
        let r = r?;
        let label = if recording { "on" } else { "off" };
        report.detail(
            S,
            format!(
                "recording {label}: paced at {}, processed {}, shed {} events, recorder shed {dropped} frames",
                report::rate(PACE as f64),
                report::rate(r.rate()),
                r.counted_drops()
            ),
        );
        describe(report, S, &r);
        rates.push(r.rate());
    }
    let (off, on) = (rates[0], rates[1]);
    report.row(
        "Throughput at 2 M/s paced, recording on ÷ off",
        format!(
            "{:.1}% ({} vs {})",
            100.0 * on / off.max(1e-9),
            report::rate(on),
            report::rate(off)
        ),
        "≥ 90%",
        Verdict::of(on >= 0.9 * off),
    );
    let on_disk = bytes_under(dir);
    let per_event = on_disk as f64 / set.events() as f64;
    report.row(
        "Recording size per trade event (default zstd level)",
        format!(
            "{per_event:.1} B ({} for {} events)",
            report::bytes(on_disk),
            set.events()
        ),
        "≤ 20 B",
        Verdict::of(per_event <= 20.0),
    );
    replay_rate(dir, report).await
}

/// Replays the recording as fast as possible through a fresh pipeline.
async fn replay_rate(dir: &Path, report: &mut Report) -> Result<(), String> {
    let alerts = dir.join("replayed-alerts.jsonl");
    let mut config = Config::default();
    config.output.stdout = StdoutFormat::Off;
    config.output.alerts_file = Some(alerts);
    config.pipeline.progress_interval_s = 0;
    // Reading alone: decompression and line parsing, no pipeline.
    let started = std::time::Instant::now();
    let mut recording = Recording::open(dir).map_err(|e| e.to_string())?;
    let (frames, bytes) = recording
        .by_ref()
        .fold((0u64, 0u64), |(n, b), r| (n + 1, b + r.frame.len() as u64));
    let read = started.elapsed().as_secs_f64().max(1e-9);
    report.detail(
        S,
        format!(
            "reading alone (decompress + split lines + parse, one thread): {frames} frames, {} of frames in {read:.2} s ({:.0} frames/s)",
            report::bytes(bytes),
            frames as f64 / read
        ),
    );
    let recording = Recording::open(dir).map_err(|e| e.to_string())?;
    let credentials = Credentials::key(ApiKey::new(""));
    let done = replay::replay(config, credentials, recording, Window::default())
        .await
        .map_err(|e| e.to_string())?;
    let input = &done.summary.input;
    let rate = input.events as f64 / done.elapsed.as_secs_f64().max(1e-9);
    report.row(
        "Replay as fast as possible (decompress + decode + detect + alerts written)",
        report::rate(rate),
        "≥ 2.5 M/s",
        Verdict::of(rate >= 2.5e6),
    );
    report.detail(
        S,
        format!(
            "replay: {} frames, {} events in {:.2} s; {} alerts; {} problems; {} dropped",
            input.frames,
            input.events,
            done.elapsed.as_secs_f64(),
            done.summary.alerts,
            input.problems.values().sum::<u64>(),
            input.dropped
        ),
    );
    Ok(())
}

/// Bytes of the recording files under `dir`.
fn bytes_under(dir: &Path) -> u64 {
    recording_files(dir)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}
