//! The command line: `tapewatch run`, `tapewatch replay`, `tapewatch ingest`,
//! `tapewatch worker`, `tapewatch sim`, `tapewatch demo`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, ConfigError, FeedConfig, StdoutFormat};
use crate::credentials;
use crate::service::{self, Outcome};

/// Watches live market-data feeds, detects anomalies in the trade stream and
/// enriches them over REST without ever stalling the stream.
#[derive(Debug, Parser)]
#[command(name = "tapewatch", version)]
pub struct Cli {
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `tapewatch=debug`;
    /// `info,actix_server=warn` without one.
    #[arg(long, global = true, env = "TAPEWATCH_LOG")]
    pub log: Option<String>,
    /// Log line format on stderr: `text` (coloured only on a terminal) or
    /// `json` (one object per line, for log shippers).
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: crate::logging::LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Watch the real feeds. The key comes from POLYGON_API_KEY or MASSIVE_API_KEY.
    Run(RunArgs),
    /// Run a recording (`run --record DIR`) through the same pipeline: a
    /// backtest of the detector, as fast as possible or at the original pace.
    Replay(crate::replay::ReplayArgs),
    /// Serve the simulated Polygon feed and REST endpoints.
    Sim(tapewatch_sim::cli::SimArgs),
    /// Run the simulator and the pipeline together: no key, no network.
    Demo(crate::demo::DemoArgs),
    /// Read the feeds and publish their decoded events to NATS JetStream,
    /// partitioned for `tapewatch worker`s; detects nothing itself.
    Ingest(IngestArgs),
    /// Detect and enrich on one partition of the events `ingest` publishes,
    /// as `run` does on its feeds.
    Worker(WorkerArgs),
}

/// Flags of `tapewatch worker`: those of `run` (`--nats` required; the feed
/// flags have no effect) and the partition to consume.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    run: RunArgs,
    /// The partition this worker consumes, below `--partitions`.
    #[arg(long)]
    partition: u32,
    /// How many partitions the ingest publishes.
    #[arg(long)]
    partitions: u32,
}

/// Flags of `tapewatch ingest`: those of `run` (`--nats` required) and the
/// number of partitions.
#[derive(Debug, Args)]
pub struct IngestArgs {
    #[command(flatten)]
    run: RunArgs,
    /// How many partitions (`tapewatch.events.0` .. `N-1`).
    #[arg(long)]
    partitions: u32,
}

/// Flags of `tapewatch run`; each overrides the config file.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// TOML config file (see examples/tapewatch.toml); defaults apply without one.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Market-data provider: polygon (or massive), or alpaca.
    #[arg(long)]
    provider: Option<String>,
    /// One feed URL, replacing the configured feeds (e.g. wss://socket.massive.com/options).
    #[arg(long)]
    feed_url: Option<String>,
    /// REST base URL for enrichment.
    #[arg(long)]
    rest_url: Option<String>,
    /// Topics to subscribe, repeatable or comma-separated (e.g. `T.*`).
    #[arg(long, value_delimiter = ',')]
    subscribe: Vec<String>,
    /// Append every alert and enrichment to this JSONL file.
    #[arg(long)]
    alerts: Option<PathBuf>,
    /// How stdout shows records.
    #[arg(long, value_enum)]
    format: Option<StdoutFormat>,
    /// Stop after this long (e.g. `90s`, `2h`); runs until Ctrl-C otherwise.
    #[arg(long)]
    duration: Option<humantime::Duration>,
    /// Address of the HTTP API and `/ws` (e.g. `127.0.0.1:8787`); anything but
    /// loopback needs TAPEWATCH_TOKEN.
    #[arg(long)]
    http_bind: Option<std::net::SocketAddr>,
    /// Also publish alerts and enrichments to this NATS JetStream server
    /// (e.g. `nats://127.0.0.1:4222`).
    #[arg(long)]
    nats: Option<String>,
    /// Record every frame of every feed under this directory
    /// (DIR/<feed>/YYYY-MM-DD/HH.ndjson.zst), for `tapewatch replay`.
    #[arg(long)]
    record: Option<PathBuf>,
}

/// Exit status for a configuration error.
pub const EXIT_CONFIG: u8 = 2;

/// Parses the command line, runs it, and returns the exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::logging::init(cli.log.as_deref(), cli.log_format);
    let system = actix_rt::System::new();
    let code = system.block_on(async move {
        match cli.command {
            Command::Run(args) => run_with(args, |_| {}).await,
            Command::Replay(args) => crate::replay::run(args).await,
            Command::Sim(args) => tapewatch_sim::cli::serve(args, service::signals()).await,
            Command::Demo(args) => crate::demo::run(args).await,
            Command::Ingest(args) => {
                if args.run.nats.is_none() {
                    eprintln!("tapewatch: ingest needs --nats URL");
                    return EXIT_CONFIG;
                }
                let partitions = args.partitions;
                run_with(args.run, move |c| {
                    c.nats.ingest_partitions = Some(partitions)
                })
                .await
            }
            Command::Worker(args) => {
                if args.run.nats.is_none() {
                    eprintln!("tapewatch: worker needs --nats URL");
                    return EXIT_CONFIG;
                }
                let partition = crate::nats::WorkerPartition {
                    index: args.partition,
                    of: args.partitions,
                };
                run_with(args.run, move |c| c.nats.worker = Some(partition)).await
            }
        }
    });
    ExitCode::from(code)
}

/// Applies `run` flags to a loaded config.
pub fn apply_flags(config: &mut Config, args: &RunArgs) {
    if let Some(provider) = &args.provider {
        config.provider = provider.clone();
        config.settle_default_feed();
    }
    if let Some(url) = &args.feed_url {
        let name = url
            .rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or("feed");
        let subscribe = config
            .feeds
            .first()
            .map(|f| f.subscribe.clone())
            .unwrap_or_default();
        config.feeds = vec![FeedConfig {
            name: name.to_owned(),
            url: url.clone(),
            subscribe,
        }];
    }
    if !args.subscribe.is_empty() {
        let topics: Vec<String> = args
            .subscribe
            .iter()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
        for feed in &mut config.feeds {
            feed.subscribe = topics.clone();
        }
    }
    if let Some(url) = &args.rest_url {
        config.rest.base_url = url.clone();
    }
    if let Some(path) = &args.alerts {
        config.output.alerts_file = Some(path.clone());
    }
    if let Some(format) = args.format {
        config.output.stdout = format;
    }
    if let Some(bind) = args.http_bind {
        config.http.bind = bind;
    }
    if let Some(url) = &args.nats {
        config.nats.url = Some(url.clone());
    }
    if let Some(dir) = &args.record {
        config.record.dir = Some(dir.clone());
    }
}

async fn run_with(args: RunArgs, mode: impl FnOnce(&mut Config)) -> u8 {
    let mut config = match &args.config {
        Some(path) => match Config::load(path) {
            Ok(c) => c,
            Err(e) => return config_error(&e),
        },
        None => Config::default(),
    };
    apply_flags(&mut config, &args);
    mode(&mut config);
    if let Err(e) = config.validate("command line") {
        return config_error(&e);
    }
    let credentials = match credentials::from_env(&config.provider, |n| std::env::var(n).ok()) {
        Ok(c) => c,
        Err(what) => {
            eprintln!("tapewatch: no credentials for {}: {what}", config.provider);
            return EXIT_CONFIG;
        }
    };
    let shutdown = service::signals_or(args.duration.map(Into::into));
    match service::run(config, credentials, shutdown).await {
        Ok(Outcome::Stopped) => 0,
        Ok(Outcome::Failed(reason)) => {
            eprintln!("tapewatch: stopped: {reason}");
            1
        }
        Err(e) => {
            eprintln!("tapewatch: {e}");
            EXIT_CONFIG
        }
    }
}

fn config_error(e: &ConfigError) -> u8 {
    eprintln!("tapewatch: {e}");
    EXIT_CONFIG
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_args(argv: &[&str]) -> RunArgs {
        let cli = Cli::try_parse_from(argv).expect("valid command line");
        match cli.command {
            Command::Run(args) => args,
            other => panic!("not run: {other:?}"),
        }
    }

    #[test]
    fn provider_flag_without_a_url_uses_the_providers_own_feed() {
        let cases = [
            (
                &["tapewatch", "run", "--provider", "alpaca"][..],
                "wss://stream.data.alpaca.markets/v2/iex",
            ),
            (
                &["tapewatch", "run", "--provider", "polygon"][..],
                "wss://socket.massive.com/stocks",
            ),
            (
                &[
                    "tapewatch",
                    "run",
                    "--provider",
                    "alpaca",
                    "--feed-url",
                    "wss://stream.data.alpaca.markets/v2/sip",
                ][..],
                "wss://stream.data.alpaca.markets/v2/sip",
            ),
        ];
        for (argv, url) in cases {
            let mut config = Config::default();
            apply_flags(&mut config, &run_args(argv));
            assert_eq!(config.feed_url(0).as_deref(), Some(url), "{argv:?}");
            config.validate("command line").expect("valid");
        }
    }
}
