//! `tapewatch sim`: serves the simulator until Ctrl-C or SIGTERM, speaking
//! Polygon's or Alpaca's protocol, optionally with the fault modes of
//! [`Faults`] switched on.
//!
//! Besides a line for people, it prints `listening ADDR` on stderr once it
//! serves, and `stats {...}` (its counters as JSON) when it stops, so that a
//! program that started it on port 0 can find it and check what it saw.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, ValueEnum};
use tapewatch_actors::secret::ApiKey;

use super::cli_report::{print_script, stats_json};
use super::{AlpacaFeed, Faults, ScriptConfig, SimConfig, SimProvider, DEFAULT_OVERSIZE_BYTES};

/// The protocols `--provider` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ProviderArg {
    /// Polygon/Massive: `/stocks`, `/options`.
    Polygon,
    /// Alpaca: `/v2/iex`, `/v2/sip`, `/v2/delayed_sip`, `/v2/test`.
    Alpaca,
}

impl From<ProviderArg> for SimProvider {
    fn from(arg: ProviderArg) -> Self {
        match arg {
            ProviderArg::Polygon => SimProvider::Polygon,
            ProviderArg::Alpaca => SimProvider::Alpaca,
        }
    }
}

/// Flags of `tapewatch sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address to serve the feeds and REST (`/v3/...`) on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:8765")]
    bind: SocketAddr,
    /// Whose WebSocket protocol to speak.
    #[arg(long, value_enum, default_value = "polygon")]
    provider: ProviderArg,
    /// Accept only this API key (any key is accepted without it).
    #[arg(long)]
    key: Option<String>,
    /// Accept only this Alpaca secret key (any secret is accepted without it).
    #[arg(long)]
    secret: Option<String>,
    /// Print the first N trades of each market's script as JSON lines and exit.
    #[arg(long, value_name = "N")]
    print_script: Option<u64>,
    /// Seed of the deterministic script.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Events per second on each connection (as fast as possible without it).
    /// Paced events carry the wall-clock time they are sent at.
    #[arg(long)]
    rate: Option<u64>,
    /// Keep the script's deterministic event times even with `--rate`, as
    /// `--print-script` prints them.
    #[arg(long)]
    script_time: bool,
    /// Largest number of events per frame.
    #[arg(long, default_value_t = 10)]
    events_per_frame: usize,
    /// Trades per feed before the script ends (endless without it).
    #[arg(long)]
    total: Option<u64>,
    /// Also inject options flow (premium whales, sweeps, volume over open
    /// interest) on contracts of their own in the options feed.
    #[arg(long)]
    flow: bool,
    /// Hold every REST answer back this long, e.g. `30s` to make REST hang.
    #[arg(long, value_parser = humantime::parse_duration)]
    rest_delay: Option<Duration>,
    /// Serve this recording (`tapewatch run --record`) as a live Polygon
    /// feed, each recorded feed at `/<feed>`, instead of the script.
    #[arg(long, value_name = "PATH")]
    replay: Option<std::path::PathBuf>,
    /// With --replay: 1 is the original pace, K is K times faster, 0 as fast
    /// as the socket takes the frames.
    #[arg(long, default_value_t = 1.0, requires = "replay")]
    speed: f64,
    #[command(flatten)]
    faults: FaultArgs,
}

/// Fault flags of `tapewatch sim`; see [`Faults`] for what each one does.
#[derive(Debug, Args)]
#[command(next_help_heading = "Faults")]
struct FaultArgs {
    /// WebSocket faults hit only the first N connections of each market
    /// (`all` for every connection).
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_count)]
    faulty_connections: u64,
    /// After N data frames, drop the TCP connection without a Close frame.
    #[arg(long, value_name = "N")]
    drop_after_frames: Option<u64>,
    /// After N data frames, send a Close frame (code: --close-code) and end.
    #[arg(long, value_name = "N")]
    close_after_frames: Option<u64>,
    /// The code of the Close frame sent by --close-after-frames [default: 1011].
    #[arg(long, value_name = "CODE", requires = "close_after_frames")]
    close_code: Option<u16>,
    /// After N data frames, send no more data but keep answering pings.
    #[arg(long, value_name = "N")]
    mute_after_frames: Option<u64>,
    /// After N data frames, send nothing at all, pongs included (half-open).
    #[arg(long, value_name = "N")]
    deaf_after_frames: Option<u64>,
    /// Allow one connection per key and market; extra ones get
    /// `max_connections` (Alpaca: error 406) and Close 1008.
    #[arg(long)]
    max_connections: bool,
    /// Turn every connection away with `max_connections` after auth.
    #[arg(long)]
    reject_all_with_max_connections: bool,
    /// After every N data frames, send one hostile frame, in rotation: malformed
    /// JSON, binary, wrong fields, unasked statuses, an oversized frame.
    #[arg(long, value_name = "N")]
    garbage_every: Option<u64>,
    /// Size of the oversized hostile frame, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_OVERSIZE_BYTES)]
    oversize_bytes: usize,
    /// Statuses of the first REST answers, in order, e.g. `429,500`.
    #[arg(long, value_name = "STATUSES", value_delimiter = ',')]
    rest_statuses: Vec<u16>,
    /// The `Retry-After` seconds sent with an injected 429.
    #[arg(long, value_name = "SECS", default_value_t = 1)]
    rest_retry_after: u64,
}

/// A connection count, where `all` means no limit.
fn parse_count(text: &str) -> Result<u64, String> {
    if text.eq_ignore_ascii_case("all") {
        return Ok(u64::MAX);
    }
    text.parse()
        .map_err(|_| format!("expected a number or `all`, got `{text}`"))
}

impl From<FaultArgs> for Faults {
    fn from(args: FaultArgs) -> Self {
        Faults {
            faulty_connections: args.faulty_connections,
            drop_after_frames: args.drop_after_frames,
            close_after_frames: args
                .close_after_frames
                .map(|n| (n, args.close_code.unwrap_or(1011))),
            mute_after_frames: args.mute_after_frames,
            deaf_after_frames: args.deaf_after_frames,
            max_connections: args.max_connections,
            reject_all_with_max_connections: args.reject_all_with_max_connections,
            garbage_every: args.garbage_every,
            oversize_bytes: args.oversize_bytes,
            rest_statuses: args.rest_statuses,
            rest_retry_after_s: Some(args.rest_retry_after),
        }
    }
}

/// Serves until `shutdown` completes (the command line passes SIGINT/SIGTERM),
/// or prints the script; returns the exit status.
pub async fn serve(args: SimArgs, shutdown: impl std::future::Future<Output = ()>) -> u8 {
    let script = ScriptConfig {
        seed: args.seed,
        total_events: args.total,
        flow: args.flow,
        ..ScriptConfig::default()
    };
    if let Some(count) = args.print_script {
        return if print_script(&script, count) { 0 } else { 1 };
    }
    if let Some(path) = args.replay.clone() {
        let key = args.key.clone().map(ApiKey::new);
        return super::tape::serve(path, args.bind, key, args.speed, shutdown).await;
    }
    let config = SimConfig {
        provider: args.provider.into(),
        bind: args.bind,
        key: args.key.map(ApiKey::new),
        secret: args.secret.map(ApiKey::new),
        events_per_second: args.rate,
        script_time: args.script_time,
        events_per_frame: args.events_per_frame.max(1),
        script,
        rest_delay: args.rest_delay.unwrap_or_default(),
        faults: args.faults.into(),
        ..SimConfig::default()
    };
    let provider = config.provider;
    match super::start(config).await {
        Ok(handle) => {
            let feeds: Vec<String> = match provider {
                SimProvider::Polygon => vec![handle.ws_url("stocks"), handle.ws_url("options")],
                SimProvider::Alpaca => AlpacaFeed::ALL
                    .iter()
                    .map(|f| handle.ws_url(&f.path()))
                    .collect(),
            };
            eprintln!(
                "tapewatch sim: feeds at {}, REST at {}",
                feeds.join(", "),
                handle.rest_url()
            );
            eprintln!("listening {}", handle.addr);
            shutdown.await;
            let stats = std::sync::Arc::clone(&handle.stats);
            handle.stop().await;
            eprintln!("stats {}", stats_json(&stats));
            0
        }
        Err(e) => {
            eprintln!("tapewatch sim: cannot serve on {}: {e}", args.bind);
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        sim: SimArgs,
    }

    fn faults(args: &[&str]) -> Faults {
        let cli = Cli::try_parse_from(std::iter::once("sim").chain(args.iter().copied()));
        cli.map(|cli| cli.sim.faults.into())
            .unwrap_or_else(|e| panic!("{args:?} must parse: {e}"))
    }

    #[test]
    fn provider_and_secret_flags_parse() {
        let cli = Cli::try_parse_from(["sim", "--provider", "alpaca", "--secret", "s"]);
        let sim = cli.map(|c| c.sim).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(SimProvider::from(sim.provider), SimProvider::Alpaca);
        assert_eq!(sim.secret.as_deref(), Some("s"));
        let default = Cli::try_parse_from(["sim"]).map(|c| SimProvider::from(c.sim.provider));
        assert_eq!(default.ok(), Some(SimProvider::Polygon));
        assert!(Cli::try_parse_from(["sim", "--provider", "kraken"]).is_err());
    }

    #[test]
    fn no_fault_flags_mean_no_faults() {
        assert_eq!(faults(&[]), Faults::default());
    }

    #[test]
    fn fault_flags_map_onto_faults() {
        let parsed = faults(&[
            "--faulty-connections=2",
            "--close-after-frames=5",
            "--close-code=1011",
            "--garbage-every=3",
            "--rest-statuses=429,500",
            "--max-connections",
        ]);
        assert_eq!(parsed.faulty_connections, 2);
        assert_eq!(parsed.close_after_frames, Some((5, 1011)));
        assert_eq!(parsed.garbage_every, Some(3));
        assert_eq!(parsed.rest_statuses, [429, 500]);
        assert!(parsed.max_connections);
        assert_eq!(
            faults(&["--close-after-frames=1"]).close_after_frames,
            Some((1, 1011))
        );
        let all = faults(&["--faulty-connections=all"]).faulty_connections;
        assert_eq!(all, u64::MAX);
        let orphan = Cli::try_parse_from(["sim", "--close-code=1011"]);
        assert!(orphan.is_err(), "--close-code needs --close-after-frames");
    }
}
