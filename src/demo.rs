//! `tapewatch demo`: the simulator and the pipeline in one process.
//!
//! Needs no key and no network: the pipeline connects to the simulator on a
//! loopback port, watches its stocks and options feeds, and prints alerts with
//! their enrichment as they happen, plus a progress line every few seconds.
//! The options feed also carries the simulator's options-flow injections
//! (premium whales, sweeps, volume over open interest).
//! Its banner ends with the dashboard's URL, `http://127.0.0.1:PORT/`, once
//! the HTTP API listens (with `--http-bind 127.0.0.1:0` the port is the OS's
//! choice, and the banner is where to read it).

use std::path::PathBuf;

use clap::Args;
use tapewatch_actors::secret::{ApiKey, Credentials};

use crate::config::{Config, FeedConfig, StdoutFormat};
use crate::service::{self, Outcome};
use tapewatch_sim::{self as sim, ScriptConfig, SimConfig};

/// Flags of `tapewatch demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Stop after this long (e.g. `30s`); runs until Ctrl-C otherwise.
    #[arg(long)]
    duration: Option<humantime::Duration>,
    /// Simulated events per second on each feed.
    #[arg(long, default_value_t = 2000)]
    rate: u64,
    /// How stdout shows records.
    #[arg(long, value_enum, default_value = "pretty")]
    format: StdoutFormat,
    /// Also append every record to this JSONL file.
    #[arg(long)]
    alerts: Option<PathBuf>,
    /// Address of the HTTP API and `/ws`; anything but loopback needs
    /// TAPEWATCH_TOKEN.
    #[arg(long, default_value = "127.0.0.1:8787")]
    http_bind: std::net::SocketAddr,
}

/// Runs the demo; returns the exit status.
pub async fn run(args: DemoArgs) -> u8 {
    let http = crate::config::HttpConfig {
        bind: args.http_bind,
        ..Default::default()
    };
    if let Err((key, message)) = http.validate() {
        eprintln!("tapewatch demo: --http-bind (http.{key}): {message}");
        return crate::cli::EXIT_CONFIG;
    }
    let key = ApiKey::new("demo");
    let simulator = match sim::start(SimConfig {
        key: Some(key.clone()),
        events_per_second: Some(args.rate.max(1)),
        script: ScriptConfig {
            base_time_ms: tapewatch_actors::messages::unix_ms(),
            flow: true,
            ..ScriptConfig::default()
        },
        ..SimConfig::default()
    })
    .await
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tapewatch demo: cannot start the simulator: {e}");
            return 1;
        }
    };
    eprintln!(
        "tapewatch demo: simulator on {} ({} events/s per feed)",
        simulator.addr, args.rate
    );
    // Option quotes have no wildcard: the contracts whose prints get a side
    // (the options-flow injections') are named one by one.
    let flow_quotes = sim::FLOW_CONTRACTS.iter().map(|c| format!("Q.{c}"));
    let feeds = ["stocks", "options"]
        .iter()
        .map(|market| FeedConfig {
            name: (*market).to_owned(),
            url: simulator.ws_url(market),
            // Quotes of the stocks too, so `quotes:` on /ws has data.
            subscribe: match *market {
                "stocks" => vec!["T.*".to_owned(), "Q.*".to_owned()],
                "options" => std::iter::once("T.*".to_owned())
                    .chain(flow_quotes.clone())
                    .collect(),
                _ => vec!["T.*".to_owned()],
            },
        })
        .collect();
    let mut config = Config {
        feeds,
        http,
        ..Config::default()
    };
    config.rest.base_url = simulator.rest_url();
    // The simulator injects an anomaly every couple of seconds of wall time
    // and repeats each (instrument, kind) within a minute; the default
    // cooldown would hide every repeat for a minute at a time.
    config.detector.cooldown_ms = 10_000;
    config.output.stdout = args.format;
    config.output.alerts_file = args.alerts;
    let shutdown = service::signals_or(args.duration.map(Into::into));
    let banner = |url: &str| {
        eprintln!("tapewatch demo: dashboard on {url}/ (open it in a browser); Ctrl-C to stop");
    };
    let code = match service::run_announcing(config, Credentials::key(key), shutdown, banner).await
    {
        Ok(Outcome::Stopped) => 0,
        Ok(Outcome::Failed(reason)) => {
            eprintln!("tapewatch demo: stopped: {reason}");
            1
        }
        Err(e) => {
            eprintln!("tapewatch demo: {e}");
            1
        }
    };
    simulator.stop().await;
    code
}
