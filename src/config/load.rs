//! Reading a configuration: TOML parsing with errors that name the dotted key,
//! and validation of values that parse but cannot work. Every error names the
//! file (or `command line`) and the key, and the process exits with status 2.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tapewatch_actors::provider::generic::Generic;
use tapewatch_actors::provider::{by_name, Provider};

use super::Config;

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
        let mut config = Self::parse(&text).map_err(|(key, message)| ConfigError::Parse {
            file: path.to_owned(),
            key,
            message,
        })?;
        config.settle_default_feed();
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

    /// The configured provider: a built-in one by name, or the generic
    /// provider compiled from `[generic]`. The error is (dotted key, why).
    pub fn provider(&self) -> Result<Arc<dyn Provider>, (String, String)> {
        if self.provider != "generic" {
            if self.generic.is_some() {
                return Err((
                    "generic".into(),
                    format!(
                        "is only read with provider = \"generic\" (provider is `{}`)",
                        self.provider
                    ),
                ));
            }
            return by_name(&self.provider).ok_or_else(|| {
                (
                    "provider".into(),
                    "unknown provider (known: polygon, massive, alpaca, generic)".into(),
                )
            });
        }
        let Some(spec) = &self.generic else {
            return Err((
                "generic".into(),
                "provider = \"generic\" needs a [generic] section describing the protocol".into(),
            ));
        };
        let generic = Generic::compile(spec)
            .map_err(|e| (format!("generic.{}", e.key), e.message.clone()))?;
        for (i, feed) in self.feeds.iter().enumerate() {
            generic
                .check_url(&feed.url, "url")
                .map_err(|e| (format!("feeds[{i}].url"), e.message))?;
        }
        Ok(Arc::new(generic))
    }

    /// Checks values that parse but cannot work.
    pub fn validate(&self, file: &str) -> Result<(), ConfigError> {
        let invalid = |key: String, message: &str| ConfigError::Invalid {
            file: file.to_owned(),
            key,
            message: message.to_owned(),
        };
        if let Err((key, message)) = self.provider() {
            return Err(invalid(key, &message));
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
        if let Some((key, message)) = super::checks::first_problem(self) {
            return Err(invalid(key, &message));
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
        if let Some(message) = self.nats.problem() {
            return Err(invalid("nats".into(), message));
        }
        if let Some(url) = &self.nats.url {
            if url.trim().is_empty() {
                return Err(invalid(
                    "nats.url".into(),
                    "is empty (leave it unset to publish nothing)",
                ));
            }
        }
        if let Err((key, message)) = self.http.validate() {
            return Err(invalid(format!("http.{key}"), &message));
        }
        Ok(())
    }
}
