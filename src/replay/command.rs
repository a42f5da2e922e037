//! The `tapewatch replay` command line: flags, the recording and the
//! config they name, and what is printed at the end.

use std::path::PathBuf;
use std::time::UNIX_EPOCH;

use clap::Args;
use tapewatch_actors::recording::source::Recording;
use tapewatch_actors::secret::{ApiKey, Credentials};

use super::{replay, ReplayError, Replayed, Window};
use crate::cli::EXIT_CONFIG;
use crate::config::{Config, StdoutFormat};

/// Flags of `tapewatch replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A recording file, a feed's directory, or a whole recording directory
    /// (feeds merged by receive time).
    path: PathBuf,
    /// 0: as fast as possible; 1: the original pace; K: K times faster.
    #[arg(long, default_value_t = 0.0)]
    speed: f64,
    /// Replay from this time on (RFC 3339, e.g. `2026-11-27T14:30:00Z`).
    #[arg(long)]
    from: Option<String>,
    /// Replay up to this time (RFC 3339).
    #[arg(long)]
    to: Option<String>,
    /// TOML config file: the same keys as `run` (detector thresholds, REST, outputs).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Append every alert and enrichment to this JSONL file.
    #[arg(long)]
    alerts: Option<PathBuf>,
    /// How stdout shows records.
    #[arg(long, value_enum)]
    format: Option<StdoutFormat>,
    /// REST base URL for enrichment (the key comes from POLYGON_API_KEY).
    #[arg(long)]
    rest_url: Option<String>,
    /// Print a table of alerts per kind and per symbol at the end.
    #[arg(long)]
    summary: bool,
    /// Write that table as JSON to this file.
    #[arg(long)]
    summary_json: Option<PathBuf>,
}

/// Runs `tapewatch replay`; returns the exit status.
pub async fn run(args: ReplayArgs) -> u8 {
    match run_args(&args).await {
        Ok(done) => {
            report(&done);
            if args.summary {
                println!("{}", done.summary.table());
            }
            if let Some(path) = &args.summary_json {
                let json = serde_json::to_string_pretty(&done.summary).unwrap_or_default();
                if let Err(e) = std::fs::write(path, json + "\n") {
                    eprintln!("tapewatch replay: cannot write {}: {e}", path.display());
                    return 1;
                }
            }
            0
        }
        Err(e) => {
            eprintln!("tapewatch replay: {e}");
            EXIT_CONFIG
        }
    }
}

async fn run_args(args: &ReplayArgs) -> Result<Replayed, ReplayError> {
    let mut config = match &args.config {
        Some(path) => Config::load(path).map_err(|e| ReplayError::Config(e.to_string()))?,
        None => Config::default(),
    };
    if let Some(path) = &args.alerts {
        config.output.alerts_file = Some(path.clone());
    }
    if let Some(format) = args.format {
        config.output.stdout = format;
    }
    if let Some(url) = &args.rest_url {
        config.rest.base_url = url.clone();
    }
    if !(args.speed.is_finite() && args.speed >= 0.0) {
        return Err(ReplayError::Config("--speed must be 0 or more".into()));
    }
    let window = Window {
        speed: args.speed,
        from_ns: args.from.as_deref().map(parse_time).transpose()?,
        to_ns: args.to.as_deref().map(parse_time).transpose()?,
    };
    let recording = Recording::open(&args.path)?;
    let key = crate::credentials::POLYGON_KEYS
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()));
    // Enrichment is Polygon's REST API whatever the recorded feed was.
    let key = ApiKey::new(key.unwrap_or_default());
    let credentials = Credentials {
        rest: (!key.is_empty()).then(|| key.clone()),
        ..Credentials::key(key)
    };
    replay(config, credentials, recording, window).await
}

fn report(done: &Replayed) {
    let input = &done.summary.input;
    let secs = done.elapsed.as_secs_f64().max(1e-9);
    eprintln!(
        "tapewatch replay: {} frames, {} events from {} files in {:.2} s ({:.0} events/s); {} alerts; {} problems in the recording; {} entries the recorder had shed; {} dropped",
        input.frames,
        input.events,
        input.files,
        secs,
        input.events as f64 / secs,
        done.summary.alerts,
        input.problems.values().sum::<u64>(),
        input.recorder_gaps,
        input.dropped,
    );
}

/// An RFC 3339 time as ns since the epoch.
fn parse_time(text: &str) -> Result<u64, ReplayError> {
    let bad = |e: &dyn std::fmt::Display| {
        ReplayError::Config(format!("`{text}` is not an RFC 3339 time ({e})"))
    };
    let t = humantime::parse_rfc3339_weak(text).map_err(|e| bad(&e))?;
    let d = t.duration_since(UNIX_EPOCH).map_err(|e| bad(&e))?;
    u64::try_from(d.as_nanos()).map_err(|e| bad(&e))
}
