//! `tapewatch-soak`: a long run of the real service under random faults.
//!
//! A program, not a test. It starts the simulator in this process, runs the
//! release `tapewatch run` binary as a child process against it (so the RSS it
//! measures is the service's alone), and for the whole run (default 30 min)
//! injects one fault at a time, drawn at random: dropped, closed, muted and
//! deaf sockets, hostile frames, REST 429/500 and hangs, slow `/ws` clients,
//! pause/resume and subscription changes. Every ten seconds it samples the
//! service's RSS and `/metrics`. At the end it stops the service with SIGTERM
//! and reports RSS at start and end and its slope after warm-up, events sent
//! vs processed vs counted drops, reconnects, restarts, and alerts per
//! injected anomaly. `scripts/soak` builds and runs it.

mod chaos;
mod report;
mod service;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tapewatch_actors::secret::ApiKey;
use tapewatch_sim::{Market, ScriptConfig, SimConfig};

use report::{Sample, SoakReport};

/// The API key the simulator and the service share.
const KEY: &str = "soak";

/// Flags of `tapewatch-soak`.
#[derive(Debug, Parser)]
#[command(name = "tapewatch-soak", version)]
pub struct Args {
    /// How long to run (e.g. `30m`, `90s`).
    #[arg(long, default_value = "30m")]
    pub duration: humantime::Duration,
    /// Simulated events per second on each feed (stocks and options).
    #[arg(long, default_value_t = 20_000)]
    pub rate: u64,
    /// Seconds between two injected faults.
    #[arg(long, default_value_t = 15)]
    pub fault_every_s: u64,
    /// Seconds between two samples of RSS and metrics.
    #[arg(long, default_value_t = 10)]
    pub sample_every_s: u64,
    /// Seed of the fault sequence.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The service binary (default: target/release/tapewatch).
    #[arg(long, default_value = "target/release/tapewatch")]
    pub bin: PathBuf,
    /// Also write the report as Markdown to this file.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
}

/// Parses the command line, runs the soak, prints the report.
pub fn main() -> ExitCode {
    let args = Args::parse();
    crate::init_logging();
    let system = actix::System::new();
    match system.block_on(run(&args)) {
        Ok(report) => {
            println!("{}", report.text());
            if let Some(path) = &args.markdown {
                if let Err(e) = std::fs::write(path, report.markdown()) {
                    eprintln!("cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            }
            if report.unaccounted() == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("tapewatch-soak: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the soak and gathers its report.
pub async fn run(args: &Args) -> Result<SoakReport, String> {
    let script = ScriptConfig {
        base_time_ms: tapewatch_actors::messages::unix_ms(),
        ..ScriptConfig::default()
    };
    let sim = tapewatch_sim::start(SimConfig {
        key: Some(ApiKey::new(KEY)),
        events_per_second: Some(args.rate.max(1)),
        // The script's own times: detection then follows the script's model
        // (cooldowns in script time), so alerts per injection mean something.
        script_time: true,
        script: script.clone(),
        faults: tapewatch_sim::Faults {
            faulty_connections: 0,
            ..tapewatch_sim::Faults::default()
        },
        ..SimConfig::default()
    })
    .await
    .map_err(|e| format!("cannot start the simulator: {e}"))?;
    let dir = tempdir()?;
    let service = service::Service::start(&args.bin, &sim, KEY, &dir)?;
    let http = service.http_url();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    if !service::wait_ready(&client, &http, Duration::from_secs(30)).await {
        return Err("the service did not become ready within 30 s".into());
    }

    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let mut chaos = chaos::Chaos::new(&sim, &client, &http);
    let started = Instant::now();
    let total = Duration::from(args.duration);
    let sample_every = Duration::from_secs(args.sample_every_s.max(1));
    let fault_every = Duration::from_secs(args.fault_every_s.max(1));
    let mut samples = vec![Sample::take(&client, &http, service.pid(), started).await];
    let (mut next_sample, mut next_fault) = (sample_every, fault_every);
    while started.elapsed() < total {
        let now = started.elapsed();
        if now >= next_fault {
            // Faults pause for the last minute so the service can settle
            // before the final accounting.
            if total.saturating_sub(now) > Duration::from_secs(60) {
                let fault = chaos.pick(&mut rng);
                chaos.inject(fault, rng.random()).await;
            } else {
                chaos.heal().await;
            }
            next_fault += fault_every;
        }
        if now >= next_sample {
            samples.push(Sample::take(&client, &http, service.pid(), started).await);
            next_sample += sample_every;
        }
        chaos.tick().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    chaos.heal().await;
    // The final accounting: the simulator stops sending, and what is in
    // flight lands (at most 10 s), before the last sample is taken.
    sim.hold(true);
    let sent = chaos.drain(Duration::from_secs(10)).await;
    samples.push(Sample::take(&client, &http, service.pid(), started).await);
    let exit = service.stop().await;
    let injected = [Market::Stocks, Market::Options]
        .iter()
        .map(|&m| tapewatch_sim::injections(&script, m, sim.trades_generated(m)).len())
        .sum();
    let alerts = report::alerts_by_kind(&dir.join("alerts.jsonl"));
    let faults = chaos.counts();
    drop(chaos);
    sim.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(SoakReport {
        args: format!(
            "--duration {} --rate {} --fault-every-s {} --seed {}",
            args.duration, args.rate, args.fault_every_s, args.seed
        ),
        samples,
        events_sent: sent,
        injected,
        alerts,
        faults,
        exit,
    })
}

/// A fresh directory for the config and the alerts file.
fn tempdir() -> Result<PathBuf, String> {
    let mut rng = rand::rng();
    let dir = std::env::temp_dir().join(format!("tapewatch-soak-{:08x}", rng.random::<u32>()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}
