//! One lookup over HTTP: the request, its retries and the reading of the answer.
//!
//! A lookup is a loop of attempts, each limited to `timeout_ms`, separated by
//! jittered exponential pauses (or the provider's `Retry-After`), the whole
//! loop limited to `deadline_ms`. Only 429, 5xx, timeouts and transport errors
//! are retried: any other answer is final.

use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use prometheus::{Histogram, IntCounterVec};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::Value;

use super::{LookupError, LookupResult, RestConfig};
use crate::events::{AssetClass, Symbol};
use crate::metrics::Metrics;
use crate::option_ticker;
use crate::secret::ApiKey;

/// Longest response body read; reference answers are a few kilobytes.
/// What a cache key for a contract's snapshot starts with. A space is not a
/// ticker character, so such a key never collides with a ticker's own.
pub const SNAPSHOT_KEY_PREFIX: &str = "snapshot ";

const MAX_BODY: usize = 1 << 20;
/// Longest provider message quoted in an error.
const MAX_MESSAGE: usize = 200;

/// The shared client and settings of every lookup.
pub(super) struct Http {
    client: reqwest::Client,
    key: Option<ApiKey>,
    base: String,
    attempt_timeout: Duration,
    deadline: Duration,
    backoff: ExponentialBuilder,
    retry_max: Duration,
    requests: IntCounterVec,
    latency: Histogram,
}

/// How one attempt ended.
enum Attempt {
    /// A final answer.
    Done(LookupResult),
    /// Worth another try, after the provider's pause if it named one.
    Retry {
        after: Option<Duration>,
        error: LookupError,
    },
}

impl Http {
    pub(super) fn new(
        config: &RestConfig,
        key: Option<ApiKey>,
        metrics: &Metrics,
    ) -> Result<Self, reqwest::Error> {
        let attempt_timeout = Duration::from_millis(config.timeout_ms.max(1));
        let client = reqwest::Client::builder()
            .tls_backend_rustls()
            .user_agent(concat!("tapewatch/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(attempt_timeout)
            .timeout(attempt_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .build()?;
        let retry_max = Duration::from_millis(config.retry_max_ms);
        let backoff = ExponentialBuilder::new()
            .with_jitter()
            .with_min_delay(Duration::from_millis(config.retry_base_ms))
            .with_max_delay(retry_max)
            .with_max_times(config.max_retries as usize);
        Ok(Http {
            client,
            key: key.filter(|k| !k.is_empty()),
            base: config.base_url.trim_end_matches('/').to_owned(),
            attempt_timeout,
            deadline: Duration::from_millis(config.deadline_ms.max(1)),
            backoff,
            retry_max,
            requests: metrics.rest_requests.clone(),
            latency: metrics.rest_latency.clone(),
        })
    }

    pub(super) fn has_key(&self) -> bool {
        self.key.is_some()
    }

    /// Looks `ticker` up, retrying as configured, within the deadline.
    pub(super) async fn fetch(self: std::sync::Arc<Self>, ticker: Symbol) -> LookupResult {
        let Some(key) = &self.key else {
            return Err(LookupError::NoKey);
        };
        let url = self.url_of(&ticker)?;
        let result = tokio::time::timeout(self.deadline, self.attempts(&url, key)).await;
        let result = result.unwrap_or(Err(LookupError::Timeout));
        // A provider could echo the credentials back in an error body.
        result.map_err(|e| redact(e, key))
    }

    /// The URL of a cache key: a ticker's reference data, or with
    /// [`SNAPSHOT_KEY_PREFIX`] an option contract's snapshot.
    fn url_of(&self, key: &str) -> Result<String, LookupError> {
        let (ticker, snapshot) = match key.strip_prefix(SNAPSHOT_KEY_PREFIX) {
            Some(contract) => (contract, true),
            None => (key, false),
        };
        // The ticker goes into the path raw, so anything that could change
        // the URL's structure is refused before a request is made.
        if ticker.is_empty() || !ticker.chars().all(crate::events::is_ticker_char) {
            return Err(LookupError::Failed(format!("invalid ticker {ticker:?}")));
        }
        let base = &self.base;
        if snapshot {
            let bare = ticker.strip_prefix("O:").unwrap_or(ticker);
            let contract = option_ticker::parse_unprefixed(bare)
                .ok_or_else(|| LookupError::Failed(format!("not an option contract: {ticker}")))?;
            return Ok(format!(
                "{base}/v3/snapshot/options/{}/O:{bare}",
                contract.underlying
            ));
        }
        Ok(match AssetClass::of(ticker) {
            AssetClass::Option => format!("{base}/v3/reference/options/contracts/{ticker}"),
            _ => format!("{base}/v3/reference/tickers/{ticker}"),
        })
    }

    async fn attempts(&self, url: &str, key: &ApiKey) -> LookupResult {
        let mut pauses = self.backoff.build();
        loop {
            let (after, error) = match self.attempt(url, key).await {
                Attempt::Done(result) => return result,
                Attempt::Retry { after, error } => (after, error),
            };
            let Some(pause) = pauses.next() else {
                return Err(error);
            };
            let pause = after.unwrap_or(pause).min(self.retry_max);
            tracing::debug!(url, %error, ?pause, "retrying REST request");
            tokio::time::sleep(pause).await;
        }
    }

    async fn attempt(&self, url: &str, key: &ApiKey) -> Attempt {
        let started = Instant::now();
        let request = self
            .client
            .get(url)
            .bearer_auth(key.expose())
            .timeout(self.attempt_timeout);
        let exchange = async {
            let response = request.send().await?;
            let status = response.status();
            let after = retry_after(response.headers());
            read_body(response).await.map(|body| (status, after, body))
        };
        let outcome = tokio::time::timeout(self.attempt_timeout, exchange).await;
        self.latency.observe(started.elapsed().as_secs_f64());
        match outcome {
            Err(_) => self.retry("timeout", None, LookupError::Timeout),
            Ok(Err(e)) if e.is_timeout() => self.retry("timeout", None, LookupError::Timeout),
            Ok(Err(e)) => {
                self.requests.with_label_values(&["error"]).inc();
                let error = LookupError::Failed(describe(&e));
                match e.is_builder() || e.is_redirect() {
                    true => Attempt::Done(Err(error)),
                    false => Attempt::Retry { after: None, error },
                }
            }
            Ok(Ok((status, after, body))) => {
                self.requests.with_label_values(&[status.as_str()]).inc();
                classify(status, after, &body)
            }
        }
    }

    fn retry(&self, label: &str, after: Option<Duration>, error: LookupError) -> Attempt {
        self.requests.with_label_values(&[label]).inc();
        Attempt::Retry { after, error }
    }
}

/// Reads the body, refusing one larger than [`MAX_BODY`].
async fn read_body(mut response: reqwest::Response) -> Result<Option<Vec<u8>>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// Turns a complete HTTP answer into a result or a reason to retry.
fn classify(status: StatusCode, after: Option<Duration>, body: &Option<Vec<u8>>) -> Attempt {
    let Some(body) = body else {
        return Attempt::Done(Err(LookupError::Failed(format!(
            "HTTP {}: body larger than {MAX_BODY} bytes",
            status.as_u16()
        ))));
    };
    if status == StatusCode::OK {
        return Attempt::Done(match serde_json::from_slice::<Value>(body) {
            Ok(mut v) => Ok(std::sync::Arc::new(match v.get_mut("results") {
                Some(results) => results.take(),
                None => v,
            })),
            Err(e) => Err(LookupError::Failed(format!(
                "invalid JSON in HTTP 200 response: {e}"
            ))),
        });
    }
    let message = provider_message(status, body);
    if status == StatusCode::NOT_FOUND {
        return Attempt::Done(Err(LookupError::NotFound(message)));
    }
    let error = LookupError::Failed(format!("HTTP {}: {message}", status.as_u16()));
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        Attempt::Retry { after, error }
    } else {
        Attempt::Done(Err(error))
    }
}

/// The provider's explanation: Polygon puts it under `message` (403, 404) or
/// `error` (401, 429); proxies send text or nothing.
fn provider_message(status: StatusCode, body: &[u8]) -> String {
    let json = serde_json::from_slice::<Value>(body).ok();
    let field = json
        .as_ref()
        .and_then(|v| v.get("message").or_else(|| v.get("error")));
    let text = match field.and_then(Value::as_str) {
        Some(s) => s.to_owned(),
        None => String::from_utf8_lossy(body).trim().to_owned(),
    };
    if text.is_empty() {
        return status.canonical_reason().unwrap_or("no message").to_owned();
    }
    text.chars().take(MAX_MESSAGE).collect()
}

/// `Retry-After` in whole seconds; the HTTP-date form is ignored in favour of
/// the normal backoff.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A transport error's cause, without the URL reqwest would prefix.
fn describe(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let kind = if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    format!("{kind}: {cause}")
}

fn redact(error: LookupError, key: &ApiKey) -> LookupError {
    let clean = |s: String| s.replace(key.expose(), "[redacted]");
    match error {
        LookupError::NotFound(m) => LookupError::NotFound(clean(m)),
        LookupError::Failed(m) => LookupError::Failed(clean(m)),
        other => other,
    }
}

#[cfg(test)]
#[path = "rest_fetcher_http_tests.rs"]
mod tests;
