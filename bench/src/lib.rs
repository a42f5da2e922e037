//! The benchmark: a Polygon-protocol load generator on loopback, the real
//! pipeline against it, and a report of throughput, latency, isolation,
//! memory, burst absorption, the decoder's own cost, a Python peer's rate,
//! and `/ws` state topics fanned out to 100 clients (see BENCHMARKS.md).
//!
//! `tapewatch-bench` (`main.rs`) only calls [`main`]; `scripts/bench` builds it in
//! release mode and prepares the peer's Python environment. Benchmarks are
//! programs, not tests: nothing here runs under `cargo test` except unit tests
//! of pure helpers.

pub mod decode;
pub mod fanout;
pub mod fanout_clients;
pub mod footprint;
pub mod frames;
pub mod generator;
pub mod harness;
pub mod isolation;
pub mod latency;
pub mod memory;
pub mod peer;
pub mod playback;
pub mod probe;
pub mod probe_actix;
pub mod record;
pub mod report;
pub mod rest_mock;
pub mod scenarios;
pub mod sizes;
pub mod soak;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};

use report::{Report, Verdict};
use sizes::Sizes;

/// Which scenarios to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// Every scenario, memory first.
    All,
    /// Unpaced events/s through the whole pipeline.
    Throughput,
    /// Alert latency paced at 100 k and at 1 M events/s.
    Latency,
    /// Ingest rate with 2 s REST over instant REST.
    Isolation,
    /// Bytes per tracked symbol: 10 k stocks, many option contracts.
    Memory,
    /// One million events at once.
    Burst,
    /// The Python peer on the throughput feed.
    Peer,
    /// CPU time per event of the decoder alone, both of its paths.
    Decode,
    /// State topics: 100 `/ws` clients on `last:*` at 1 M events/s.
    Fanout,
    /// Throughput at 2 M/s with recording off and on, bytes per event on
    /// disk, and replay as fast as possible.
    Record,
}

/// `tapewatch-bench`: measures tapewatch against a loopback Polygon generator.
#[derive(Debug, Parser)]
#[command(name = "tapewatch-bench", version)]
pub struct Args {
    /// Scenario to run.
    #[arg(long, value_enum, default_value = "all")]
    pub scenario: Scenario,
    /// Events of the unpaced throughput run (default 10 M; 1 M with --quick).
    #[arg(long)]
    pub events: Option<u64>,
    /// Events per WebSocket frame.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub events_per_frame: u64,
    /// Small sizes, for a smoke run of the harness.
    #[arg(long)]
    pub quick: bool,
    /// Also write the results as Markdown to this file.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    /// The hub's `http.state_interval_ms` in the fan-out scenario (default:
    /// the service's default).
    #[arg(long)]
    pub state_interval_ms: Option<u64>,
    /// Python of the peer's venv (default: .venv-bench/bin/python).
    #[arg(long, env = "TAPEWATCH_BENCH_PYTHON")]
    pub python: Option<PathBuf>,
}

/// Logs to stderr, errors only unless `RUST_LOG` says otherwise: the
/// programs' output is their report.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Parses the command line, runs the scenarios, prints the report.
pub fn main() -> ExitCode {
    let args = Args::parse();
    init_logging();
    let system = actix::System::new();
    let (report, failed) = system.block_on(run(&args));
    let text = report.text();
    println!("{text}");
    if let Some(path) = &args.markdown {
        if let Err(e) = std::fs::write(path, report.markdown()) {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs what `args` asks for; true in the second place when a scenario failed
/// to run (a missed target is not a failure).
pub async fn run(args: &Args) -> (Report, bool) {
    let epf = usize::try_from(args.events_per_frame).unwrap_or(10);
    let sizes = Sizes::new(args.quick, args.events, epf);
    let mut report = Report {
        header: machine(),
        ..Report::default()
    };
    report.header.push(format!(
        "command: tapewatch-bench {}",
        std::env::args().skip(1).collect::<Vec<_>>().join(" ")
    ));
    report
        .header
        .push(format!("load average before: {}", load_average()));
    let python = args
        .python
        .clone()
        .unwrap_or_else(|| peer::root().join(peer::VENV_PYTHON));
    let want = |s: Scenario| args.scenario == Scenario::All || args.scenario == s;
    let mut failed = false;
    let mut note = |report: &mut Report, name: &str, result: Result<(), String>| {
        if let Err(e) = result {
            eprintln!("{name} failed: {e}");
            report.row(format!("{name}: did not run"), e, "", Verdict::Miss);
            failed = true;
        }
    };
    if want(Scenario::Memory) {
        eprintln!("running memory ...");
        let r = footprint::memory(&sizes, &mut report).await;
        note(&mut report, "memory", r);
    }
    if want(Scenario::Decode) {
        eprintln!("running decode ...");
        let r = decode::decode(&sizes, &mut report);
        note(&mut report, "decode", r);
    }
    let mut ours = None;
    let mut feed = None;
    if want(Scenario::Throughput) {
        eprintln!("running throughput ...");
        match scenarios::throughput(&sizes, &mut report).await {
            Ok((set, rate)) => (feed, ours) = (Some(set), Some(rate)),
            Err(e) => note(&mut report, "throughput", Err(e)),
        }
    }
    if want(Scenario::Peer) {
        eprintln!("running peer ...");
        let set = feed
            .take()
            .unwrap_or_else(|| sizes::throughput_frames(&sizes, sizes.peer_events));
        let r = scenarios::peer(&python, &set, &sizes, ours, &mut report).await;
        note(&mut report, "peer", r);
    }
    drop(feed);
    if want(Scenario::Latency) {
        eprintln!("running latency ...");
        let r = scenarios::latency(&sizes, 100_000, sizes.latency_100k_seconds, &mut report).await;
        note(&mut report, "latency @ 100k", r);
        let r = scenarios::latency(&sizes, 1_000_000, sizes.latency_1m_seconds, &mut report).await;
        note(&mut report, "latency @ 1M", r);
    }
    if want(Scenario::Isolation) {
        eprintln!("running isolation ...");
        let r = isolation::isolation(&sizes, &mut report).await;
        note(&mut report, "isolation", r);
    }
    if want(Scenario::Record) {
        eprintln!("running record ...");
        let r = record::record(&sizes, &mut report).await;
        note(&mut report, "record", r);
    }
    if want(Scenario::Burst) {
        eprintln!("running burst ...");
        let r = scenarios::burst(&sizes, &mut report).await;
        note(&mut report, "burst", r);
    }
    if want(Scenario::Fanout) {
        eprintln!("running fanout ...");
        let r = fanout::fanout(&sizes, args.state_interval_ms, &mut report).await;
        note(&mut report, "fanout", r);
    }
    report
        .header
        .push(format!("load average after: {}", load_average()));
    (report, failed)
}

/// Cores, CPU model, memory and compiler of this machine.
fn machine() -> Vec<String> {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next()?.parse::<u64>().ok())
        .map_or_else(|| "unknown".to_owned(), |kb| report::bytes(kb * 1024));
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "unknown".to_owned(), |s| s.trim().to_owned());
    vec![format!(
        "machine: {cores} cores, {model}, {mem} memory; {rustc}; release build"
    )]
}

/// The 1, 5 and 15 minute load averages.
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
