//! What a lookup produces: reference data or a [`LookupError`], and the form
//! in which answers are kept in the cache.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::RestConfig;
use crate::events::Symbol;
use crate::messages::{EnrichStatus, Enrichment};
use crate::rules::rule::Snapshot;

/// Why a lookup produced no reference data. The texts never contain the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// The provider answered 404, with its message.
    #[error("not found: {0}")]
    NotFound(String),
    /// The provider refused, answered garbage, or retries ran out.
    #[error("{0}")]
    Failed(String),
    /// The last attempt timed out, or the deadline passed.
    #[error("request timed out")]
    Timeout,
    /// No API key is configured, so nothing was attempted.
    #[error("no REST API key configured")]
    NoKey,
    /// Too many lookups were already waiting for a request slot.
    #[error("enrichment queue full")]
    QueueFull,
}

impl LookupError {
    /// The enrichment status this error is reported as.
    pub fn status(&self) -> EnrichStatus {
        match self {
            LookupError::NotFound(_) | LookupError::Failed(_) => EnrichStatus::Failed,
            LookupError::Timeout => EnrichStatus::Timeout,
            LookupError::NoKey | LookupError::QueueFull => EnrichStatus::Skipped,
        }
    }
}

/// What one lookup produced.
pub type LookupResult = Result<Arc<serde_json::Value>, LookupError>;

/// A cached answer: reference data, or the provider's 404.
#[derive(Debug, Clone)]
pub enum CachedOutcome {
    /// The provider's `results` object.
    Found(Arc<serde_json::Value>),
    /// The provider's 404 message.
    NotFound(String),
}

/// One ticker's cached answer.
#[derive(Debug, Clone)]
pub struct CacheEntry {
    /// When the answer arrived.
    pub fetched_at: Instant,
    /// How long it stays fresh.
    pub ttl: Duration,
    /// The answer.
    pub outcome: CachedOutcome,
}

impl CacheEntry {
    /// True while the entry may be served instead of asking the provider.
    pub fn is_fresh(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.fetched_at) < self.ttl
    }

    /// True for a cached 404.
    pub fn is_negative(&self) -> bool {
        matches!(self.outcome, CachedOutcome::NotFound(_))
    }

    /// The entry as a lookup result, if it is still fresh at `now`.
    pub fn fresh(&self, now: Instant) -> Option<LookupResult> {
        self.is_fresh(now).then(|| self.result())
    }

    /// The entry as a lookup result.
    pub fn result(&self) -> LookupResult {
        match &self.outcome {
            CachedOutcome::Found(v) => Ok(Arc::clone(v)),
            CachedOutcome::NotFound(m) => Err(LookupError::NotFound(m.clone())),
        }
    }

    /// The entry to cache for `result`, if it is worth caching: answers for
    /// `cache_ttl_s`, 404s for `negative_ttl_s`, failures never (they are
    /// likely to be transient).
    pub fn of(result: &LookupResult, config: &RestConfig) -> Option<Self> {
        let (outcome, ttl_s) = match result {
            Ok(v) => (CachedOutcome::Found(Arc::clone(v)), config.cache_ttl_s),
            Err(LookupError::NotFound(m)) => {
                (CachedOutcome::NotFound(m.clone()), config.negative_ttl_s)
            }
            Err(_) => return None,
        };
        let ttl = Duration::from_secs(ttl_s);
        Some(CacheEntry {
            fetched_at: Instant::now(),
            ttl,
            outcome,
        })
    }
}

/// The enrichment of alert `alert_id` from `result`, answered `since` the
/// request arrived.
pub(super) fn enrichment(
    alert_id: u64,
    symbol: Symbol,
    result: LookupResult,
    cached: bool,
    since: Instant,
) -> Enrichment {
    let (status, details, error) = match result {
        Ok(v) => (EnrichStatus::Ok, Some(Arc::unwrap_or_clone(v)), None),
        Err(e) => (e.status(), None, Some(e.to_string())),
    };
    let latency_ms = u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX);
    Enrichment {
        alert_id,
        symbol,
        status,
        details,
        error,
        cached,
        latency_ms,
    }
}

/// What the detector's rules use of a contract snapshot's `results`
/// (`open_interest`, `day.volume`, `details.shares_per_contract`,
/// `implied_volatility`); a field that is missing or not a number is None.
pub fn snapshot_of(results: &serde_json::Value) -> Snapshot {
    let number = |v: Option<&serde_json::Value>| v.and_then(serde_json::Value::as_f64);
    Snapshot {
        open_interest: number(results.get("open_interest")),
        day_volume: number(results.get("day").and_then(|d| d.get("volume"))),
        shares_per_contract: number(
            results
                .get("details")
                .and_then(|d| d.get("shares_per_contract")),
        ),
        implied_volatility: number(results.get("implied_volatility")),
    }
}
