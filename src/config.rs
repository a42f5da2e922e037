//! Service configuration: a TOML file, every key defaulted, overridden by flags.
//!
//! Configuration is plain data, kept apart from the runtime that it describes;
//! [`crate::app`] turns it into actors. A bad file is reported with the file
//! name and the exact key, and the process exits with status 2.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tapewatch_actors::guardian::SupervisionConfig;
use tapewatch_actors::provider::generic::GenericSpec;
use tapewatch_actors::provider::polygon::{DEFAULT_FEED_HOST, DEFAULT_REST_URL};
pub use tapewatch_actors::recorder::RecordConfig;
use tapewatch_actors::rest_fetcher::RestConfig;
use tapewatch_actors::rules::DetectorConfig;
use tapewatch_actors::staleness::StalenessConfig;
use tapewatch_actors::ws_session::ConnectionConfig;

pub use crate::http::HttpConfig;

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Market-data provider: `polygon` (also called `massive`), `alpaca`, or
    /// `generic` (any JSON WebSocket feed, described in `[generic]`).
    pub provider: String,
    /// One upstream connection per feed.
    pub feeds: Vec<FeedConfig>,
    /// Connection timing and reconnection.
    pub connection: ConnectionConfig,
    /// Queue capacities between the actors.
    pub pipeline: PipelineConfig,
    /// When a subscribed topic counts as stale.
    pub staleness: StalenessConfig,
    /// Restart policy for dead actors.
    pub supervision: SupervisionConfig,
    /// Detection thresholds.
    pub detector: DetectorConfig,
    /// REST enrichment.
    pub rest: RestConfig,
    /// Where alerts are written.
    pub output: OutputConfig,
    /// TLS trust settings.
    pub tls: TlsConfig,
    /// The HTTP API and downstream WebSocket endpoint.
    pub http: HttpConfig,
    /// What is kept across restarts of the process.
    pub state: StateConfig,
    /// Publishing alerts and enrichments to NATS JetStream.
    pub nats: crate::nats::NatsConfig,
    /// The protocol of `provider = "generic"`.
    pub generic: Option<GenericSpec>,
    /// Recording of every feed's frames (`run --record`).
    pub record: RecordConfig,
}

/// What is kept across restarts of the process (the `[state]` section).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateConfig {
    /// Directory for each feed's subscription set, saved after every
    /// acknowledged change and used instead of the configured set on start.
    /// Unset (the default): runtime changes last until the process ends.
    pub dir: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            provider: "polygon".to_owned(),
            feeds: vec![FeedConfig::default()],
            connection: ConnectionConfig::default(),
            pipeline: PipelineConfig::default(),
            staleness: StalenessConfig::default(),
            supervision: SupervisionConfig::default(),
            detector: DetectorConfig::default(),
            rest: RestConfig {
                base_url: DEFAULT_REST_URL.to_owned(),
                ..RestConfig::default()
            },
            output: OutputConfig::default(),
            tls: TlsConfig::default(),
            http: HttpConfig::default(),
            state: StateConfig::default(),
            nats: crate::nats::NatsConfig::default(),
            generic: None,
            record: RecordConfig::default(),
        }
    }
}

/// One upstream feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeedConfig {
    /// Name used in logs, metrics and status records.
    pub name: String,
    /// WebSocket URL (`wss://socket.massive.com/stocks`, `.../options`).
    /// Empty means the provider's own URL for a market named like the feed
    /// (`stocks`/`options` for Polygon, `iex`/`sip`/`test` for Alpaca).
    pub url: String,
    /// Topics to subscribe, e.g. `T.*` or `T.AAPL`.
    pub subscribe: Vec<String>,
}

impl Default for FeedConfig {
    fn default() -> Self {
        FeedConfig {
            name: "stocks".to_owned(),
            url: format!("{DEFAULT_FEED_HOST}/stocks"),
            subscribe: vec!["T.*".to_owned()],
        }
    }
}

impl FeedConfig {
    /// The feed used when none is configured: the provider's usual market
    /// (`stocks` for Polygon/Massive, `iex` for Alpaca) at the provider's own
    /// URL.
    pub fn default_for(provider: &str) -> FeedConfig {
        match provider {
            "alpaca" => FeedConfig {
                name: "iex".to_owned(),
                url: String::new(),
                ..FeedConfig::default()
            },
            // A configured protocol has no URL or topics of its own.
            "generic" => FeedConfig {
                name: "generic".to_owned(),
                url: String::new(),
                subscribe: Vec::new(),
            },
            _ => FeedConfig::default(),
        }
    }
}

impl Config {
    /// Replaces the untouched default feed (Polygon's stocks) by the
    /// configured provider's own, so `provider = "alpaca"` alone, or
    /// `--provider alpaca` without a URL, connects to Alpaca.
    pub fn settle_default_feed(&mut self) {
        if self.feeds == [FeedConfig::default()] {
            self.feeds = vec![FeedConfig::default_for(&self.provider)];
        }
    }
}

/// Capacities of the bounded queues in front of each stage. A full queue sheds
/// its newest message and counts it in `tapewatch_dropped_total{stage}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Frames waiting to be decoded, per feed.
    pub handler_queue: usize,
    /// Event batches waiting for the detector.
    pub detector_queue: usize,
    /// Alerts waiting for RestFetcher's mailbox.
    pub rest_queue: usize,
    /// Records waiting for each sink.
    pub sink_queue: usize,
    /// Messages waiting for each subscribed extension actor.
    pub subscriber_queue: usize,
    /// Seconds between progress lines on stderr (0 = none).
    pub progress_interval_s: u64,
    /// Recent alerts kept in memory for queries.
    pub alert_ring: usize,
    /// Decode frames on a thread of their own (beside the thread that reads
    /// the sockets and runs the detector). Off keeps the hot path on one thread.
    pub decode_thread: bool,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            handler_queue: 4096,
            detector_queue: 4096,
            rest_queue: 1024,
            sink_queue: 8192,
            subscriber_queue: 4096,
            progress_interval_s: 5,
            alert_ring: 1000,
            decode_thread: false,
        }
    }
}

/// How records are rendered on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum StdoutFormat {
    /// One JSON object per line.
    Json,
    /// One readable line per alert and enrichment.
    Pretty,
    /// Nothing on stdout.
    Off,
}

/// Output sinks.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputConfig {
    /// Format of stdout.
    pub stdout: StdoutFormat,
    /// JSONL file every record is appended to, if set.
    pub alerts_file: Option<PathBuf>,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            stdout: StdoutFormat::Json,
            alerts_file: None,
        }
    }
}

/// Extra trust for `wss://` feeds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file of additional root certificates (a private CA).
    pub ca_file: Option<PathBuf>,
}

mod checks;
mod load;
pub use load::ConfigError;

#[cfg(test)]
mod tests;
