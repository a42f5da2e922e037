//! Service configuration: a TOML file, every key defaulted, overridden by flags.
//!
//! Configuration is plain data, kept apart from the runtime that it describes;
//! [`crate::app`] turns it into actors. A bad file is reported with the file
//! name and the exact key, and the process exits with status 2.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tapewatch_actors::guardian::SupervisionConfig;
use tapewatch_actors::provider::polygon::{DEFAULT_FEED_HOST, DEFAULT_REST_URL};
use tapewatch_actors::rest_fetcher::RestConfig;
use tapewatch_actors::rules::DetectorConfig;
use tapewatch_actors::staleness::StalenessConfig;
use tapewatch_actors::ws_session::ConnectionConfig;

pub use crate::http::HttpConfig;

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Market-data provider: `polygon` (also called `massive`) or `alpaca`.
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
        }
    }
}

/// One upstream feed.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// A configuration problem, naming the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {file}: {source}")]
    Read {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A key has a wrong type, an unknown name, or the file is not TOML.
    #[error("config file {file}: key `{key}`: {message}")]
    Parse {
        /// The file.
        file: PathBuf,
        /// Dotted path of the key.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// A key parsed but its value cannot work.
    #[error("config {file}: key `{key}`: {message}")]
    Invalid {
        /// The file (or `command line`).
        file: String,
        /// Dotted path of the key.
        key: String,
        /// What is wrong with it.
        message: String,
    },
}

impl Config {
    /// Reads and validates a TOML file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: path.to_owned(),
            source,
        })?;
        let config = Self::parse(&text).map_err(|(key, message)| ConfigError::Parse {
            file: path.to_owned(),
            key,
            message,
        })?;
        config.validate(&path.display().to_string())?;
        Ok(config)
    }

    /// Parses TOML text; the error names the dotted key that failed.
    pub fn parse(text: &str) -> Result<Config, (String, String)> {
        let de =
            toml::Deserializer::parse(text).map_err(|e| ("(syntax)".to_owned(), e.to_string()))?;
        serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            (key, e.into_inner().message().trim().to_owned())
        })
    }

    /// The URL of feed `i`: as configured, or the provider's default for the
    /// market the feed is named after.
    pub fn feed_url(&self, i: usize) -> Option<String> {
        let feed = self.feeds.get(i)?;
        if !feed.url.is_empty() {
            return Some(feed.url.clone());
        }
        tapewatch_actors::provider::by_name(&self.provider)?.default_url(&feed.name)
    }

    /// Checks values that parse but cannot work.
    pub fn validate(&self, file: &str) -> Result<(), ConfigError> {
        let invalid = |key: String, message: &str| ConfigError::Invalid {
            file: file.to_owned(),
            key,
            message: message.to_owned(),
        };
        if tapewatch_actors::provider::by_name(&self.provider).is_none() {
            return Err(invalid(
                "provider".into(),
                "unknown provider (known: polygon, massive, alpaca)",
            ));
        }
        if self.feeds.is_empty() {
            return Err(invalid("feeds".into(), "at least one feed is needed"));
        }
        for (i, feed) in self.feeds.iter().enumerate() {
            let url = self.feed_url(i).unwrap_or_default();
            if url.is_empty() {
                return Err(invalid(
                    format!("feeds[{i}].url"),
                    &format!(
                        "is empty and `{}` has no default URL for a market named `{}`",
                        self.provider, feed.name
                    ),
                ));
            }
            if !(url.starts_with("ws://") || url.starts_with("wss://")) {
                return Err(invalid(
                    format!("feeds[{i}].url"),
                    "must start with ws:// or wss://",
                ));
            }
        }
        if !(self.rest.base_url.starts_with("http://")
            || self.rest.base_url.starts_with("https://"))
        {
            return Err(invalid(
                "rest.base_url".into(),
                "must start with http:// or https://",
            ));
        }
        if let Err(e) = self.detector.validate() {
            return Err(invalid(
                format!("detector.{}", e.field),
                &format!("must be {}", e.requirement),
            ));
        }
        let queues = [
            ("pipeline.handler_queue", self.pipeline.handler_queue),
            ("pipeline.detector_queue", self.pipeline.detector_queue),
            ("pipeline.rest_queue", self.pipeline.rest_queue),
            ("pipeline.sink_queue", self.pipeline.sink_queue),
            ("pipeline.subscriber_queue", self.pipeline.subscriber_queue),
        ];
        for (key, value) in queues {
            // actix treats capacity 0 as unbounded, which the pipeline never allows.
            if value == 0 {
                return Err(invalid(
                    key.into(),
                    "must be at least 1 (queues are always bounded)",
                ));
            }
        }
        if let Err((key, message)) = self.http.validate() {
            return Err(invalid(format!("http.{key}"), &message));
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
