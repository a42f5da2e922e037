//! RestFetcher: enriches alerts with reference data fetched over REST.
//!
//! Every alert's ticker is looked up once (options contracts at
//! `/v3/reference/options/contracts/{ticker}`, everything else at
//! `/v3/reference/tickers/{ticker}`) and the answer follows the alert as an
//! [`Output::Enrichment`]. Requests run as futures spawned on the actor's
//! context, so the mailbox keeps draining while they are pending and a slow
//! provider never delays an alert. Answers are cached per ticker (404s
//! briefly), concurrent lookups of one ticker share a single request, at most
//! `max_in_flight` requests run at once, and lookups beyond that wait in a
//! bounded queue; overflow is answered `skipped` at once rather than waiting.
//!
//! The detector also asks, through the same cache and request slots, for an
//! option contract's snapshot (`/v3/snapshot/options/{underlying}/{contract}`:
//! open interest, the day's volume, greeks); the answer goes back to it as a
//! [`ContractSnapshot`].

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::events::Symbol;
use crate::log_limit::{LogLimiter, LogVerdict};
use crate::messages::{ContractSnapshot, EnrichRequest, Output, SnapshotRequest};
use crate::metrics::Metrics;
use crate::secret::ApiKey;
use crate::stage::{Fanout, StageGauge};

#[path = "rest_fetcher_http.rs"]
mod http;
#[path = "rest_fetcher_outcome.rs"]
mod outcome;

pub use http::SNAPSHOT_KEY_PREFIX;
pub use outcome::{snapshot_of, CacheEntry, CachedOutcome, LookupError, LookupResult};

/// Looks up one ticker's reference data through the cache and the shared
/// request path, for callers other than the alert pipeline.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<Arc<serde_json::Value>, LookupError>")]
pub struct Lookup {
    /// The ticker, e.g. `NVDA` or `O:NVDA261218C00500000`.
    pub ticker: Symbol,
}

/// The `[rest]` section of the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RestConfig {
    /// Base URL of the provider's REST API, without a trailing path.
    pub base_url: String,
    /// Time limit of one HTTP attempt, milliseconds.
    pub timeout_ms: u64,
    /// Time limit of a whole lookup including retries and their pauses, milliseconds.
    pub deadline_ms: u64,
    /// Most HTTP requests running at once.
    pub max_in_flight: usize,
    /// Most distinct tickers waiting for a free request slot.
    pub queue_capacity: usize,
    /// How long a successful answer is served from the cache, seconds.
    pub cache_ttl_s: u64,
    /// How long a 404 answer is served from the cache, seconds.
    pub negative_ttl_s: u64,
    /// Most 404 answers cached at once. Anyone can ask for a ticker that does
    /// not exist; beyond this cap expired ones are swept out, and a 404 that
    /// still finds no room is answered but not cached.
    pub negative_cache_capacity: usize,
    /// Retries after the first attempt on 429, 5xx, timeouts and connection errors.
    pub max_retries: u32,
    /// First retry pause, milliseconds; later pauses grow exponentially with jitter.
    pub retry_base_ms: u64,
    /// Longest retry pause, milliseconds, also capping a provider's `Retry-After`.
    pub retry_max_ms: u64,
}

impl Default for RestConfig {
    fn default() -> Self {
        RestConfig {
            base_url: crate::provider::polygon::DEFAULT_REST_URL.to_owned(),
            timeout_ms: 5_000,
            deadline_ms: 30_000,
            max_in_flight: 8,
            queue_capacity: 1_024,
            cache_ttl_s: 3_600,
            negative_ttl_s: 300,
            negative_cache_capacity: 10_000,
            max_retries: 3,
            retry_base_ms: 200,
            retry_max_ms: 10_000,
        }
    }
}

/// Everything a [`RestFetcher`] needs.
#[derive(Debug, Clone)]
pub struct RestFetcherDeps {
    /// The `[rest]` settings.
    pub config: RestConfig,
    /// The HTTP client, built once and shared by every incarnation.
    pub client: RestClient,
    /// The pipeline's metrics.
    pub metrics: Metrics,
    /// The gauge of the `rest` stage, decremented for every request taken.
    pub gauge: StageGauge,
    /// Where enrichments go.
    pub outputs: Fanout<Output>,
    /// The ticker cache, shared so other components can read it.
    pub cache: Arc<DashMap<Symbol, CacheEntry>>,
    /// Alerts waiting for their enrichment, shared by every incarnation: a
    /// restart finds here how many the dead one never answered.
    pub unanswered: Arc<AtomicU64>,
}

/// The REST client of the `[rest]` settings: built once, because building it
/// is the only fallible step (TLS set-up), and cheap to clone.
#[derive(Clone)]
pub struct RestClient(Arc<http::Http>);

impl RestClient {
    /// Builds the client; `key` is the provider's API key, without which
    /// every enrichment is `skipped`. Fails only if TLS cannot be set up.
    pub fn new(
        config: &RestConfig,
        key: Option<ApiKey>,
        metrics: &Metrics,
    ) -> Result<Self, reqwest::Error> {
        Ok(RestClient(Arc::new(http::Http::new(config, key, metrics)?)))
    }
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("has_key", &self.0.has_key())
            .finish_non_exhaustive()
    }
}

/// Someone waiting for one ticker's answer.
enum Waiter {
    /// An alert whose enrichment is emitted to the outputs.
    Alert { id: u64, since: Instant },
    /// A [`Lookup`] caller.
    Lookup(oneshot::Sender<LookupResult>),
    /// The detector, waiting for a contract's snapshot.
    Snapshot(SnapshotRequest),
}

/// Most waiters one ticker's request may collect. Alerts on one ticker are
/// spaced by the detector's cooldown, but `/ws` lookups are not: beyond this,
/// joiners are answered `skipped` rather than held without limit.
pub const MAX_WAITERS_PER_TICKER: usize = 256;

/// How often expired cache entries are swept out, so the cache tracks only
/// recently alerted tickers.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The enrichment actor. Create it with a bounded mailbox
/// (`RestFetcher::create(|ctx| { ctx.set_mailbox_capacity(n); .. })`) and feed
/// it through a `StageSender` so alerts are shed, not queued without limit.
pub struct RestFetcher {
    http: Arc<http::Http>,
    config: RestConfig,
    metrics: Metrics,
    gauge: StageGauge,
    outputs: Fanout<Output>,
    cache: Arc<DashMap<Symbol, CacheEntry>>,
    unanswered: Arc<AtomicU64>,
    /// 404 answers in the cache.
    negatives: usize,
    /// Waiters per ticker whose request is running or queued.
    pending: HashMap<Symbol, Vec<Waiter>>,
    /// Tickers waiting for a request slot, oldest first.
    queue: VecDeque<Symbol>,
    in_flight: usize,
    warnings: LogLimiter,
}

impl RestFetcher {
    /// Builds the fetcher around the client in `deps`. When an earlier
    /// incarnation died, the alerts it was still enriching will never get
    /// their enrichment: they are counted in
    /// `tapewatch_enrichments_total{status="lost"}`, and its requests leave
    /// the in-flight gauge.
    pub fn new(deps: RestFetcherDeps) -> Self {
        let lost = deps.unanswered.swap(0, Ordering::Relaxed);
        if lost > 0 {
            deps.metrics.enrichments_lost.inc_by(lost);
            tracing::warn!(
                lost,
                "alerts lost their enrichment in a REST fetcher restart"
            );
        }
        deps.metrics.rest_in_flight.set(0);
        let negatives = count_negatives(&deps.cache);
        RestFetcher {
            http: deps.client.0,
            config: deps.config,
            metrics: deps.metrics,
            gauge: deps.gauge,
            outputs: deps.outputs,
            cache: deps.cache,
            unanswered: deps.unanswered,
            negatives,
            pending: HashMap::new(),
            queue: VecDeque::new(),
            in_flight: 0,
            warnings: LogLimiter::default(),
        }
    }

    /// Answers from the cache, joins a running request, starts one, queues it,
    /// or refuses it, in that order of preference.
    fn request(&mut self, ticker: Symbol, waiter: Waiter, ctx: &mut Context<Self>) {
        if let Some(result) = self
            .cache
            .get(&ticker)
            .and_then(|e| e.fresh(Instant::now()))
        {
            self.metrics.rest_cache_hits.inc();
            return self.answer(&ticker, waiter, result, true);
        }
        if !self.http.has_key() {
            return self.answer(&ticker, waiter, Err(LookupError::NoKey), false);
        }
        if let Some(waiting) = self.pending.get(&ticker).map(Vec::len) {
            if waiting >= MAX_WAITERS_PER_TICKER {
                return self.refuse(&ticker, waiter);
            }
            self.count_waiting(&waiter);
            if let Some(waiters) = self.pending.get_mut(&ticker) {
                waiters.push(waiter);
            }
            return;
        }
        if self.in_flight < self.config.max_in_flight.max(1) {
            self.count_waiting(&waiter);
            self.pending.insert(ticker.clone(), vec![waiter]);
            self.start(ticker, ctx);
        } else if self.queue.len() < self.config.queue_capacity {
            self.count_waiting(&waiter);
            self.pending.insert(ticker.clone(), vec![waiter]);
            self.queue.push_back(ticker);
        } else {
            self.refuse(&ticker, waiter);
        }
    }

    /// Answers `skipped` at once: too many lookups are waiting already.
    fn refuse(&mut self, ticker: &Symbol, waiter: Waiter) {
        self.metrics.dropped("rest").inc();
        self.warn(ticker, Some(&LookupError::QueueFull));
        self.answer(ticker, waiter, Err(LookupError::QueueFull), false);
    }

    fn start(&mut self, ticker: Symbol, ctx: &mut Context<Self>) {
        self.in_flight += 1;
        self.metrics.rest_in_flight.inc();
        let fut = Arc::clone(&self.http).fetch(ticker.clone());
        ctx.spawn(
            fut.into_actor(self)
                .map(move |result, act, ctx| act.finish(ticker, result, ctx)),
        );
    }

    fn finish(&mut self, ticker: Symbol, result: LookupResult, ctx: &mut Context<Self>) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.metrics.rest_in_flight.dec();
        match CacheEntry::of(&result, &self.config) {
            Some(entry) => self.remember(&ticker, entry),
            None => self.warn(&ticker, result.as_ref().err()),
        }
        for waiter in self.pending.remove(&ticker).unwrap_or_default() {
            if matches!(waiter, Waiter::Alert { .. }) {
                self.unanswered.fetch_sub(1, Ordering::Relaxed);
            }
            self.answer(&ticker, waiter, result.clone(), false);
        }
        self.pump(ctx);
    }

    /// Caches an answer, keeping 404s within `negative_cache_capacity`.
    fn remember(&mut self, ticker: &Symbol, entry: CacheEntry) {
        let negative = entry.is_negative();
        let replaces_negative = self.cache.get(ticker).is_some_and(|e| e.is_negative());
        if negative && !replaces_negative && self.negatives >= self.config.negative_cache_capacity {
            self.sweep();
            if self.negatives >= self.config.negative_cache_capacity {
                return;
            }
        }
        self.cache.insert(ticker.clone(), entry);
        self.negatives =
            (self.negatives + usize::from(negative)).saturating_sub(usize::from(replaces_negative));
    }

    /// Drops expired answers.
    fn sweep(&mut self) {
        let now = Instant::now();
        self.cache.retain(|_, e| e.is_fresh(now));
        self.negatives = count_negatives(&self.cache);
    }

    /// Starts queued lookups while request slots are free.
    fn pump(&mut self, ctx: &mut Context<Self>) {
        while self.in_flight < self.config.max_in_flight.max(1) {
            let Some(ticker) = self.queue.pop_front() else {
                break;
            };
            self.start(ticker, ctx);
        }
    }

    /// Notes an alert that now waits for a request, in case this incarnation
    /// dies before answering it.
    fn count_waiting(&self, waiter: &Waiter) {
        if matches!(waiter, Waiter::Alert { .. }) {
            self.unanswered.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn answer(&mut self, ticker: &Symbol, waiter: Waiter, result: LookupResult, cached: bool) {
        match waiter {
            Waiter::Lookup(tx) => {
                // The caller may have given up waiting; that is its choice.
                let _ = tx.send(result);
            }
            Waiter::Alert { id, since } => {
                let e = outcome::enrichment(id, ticker.clone(), result, cached, since);
                self.metrics.enrichments(e.status).inc();
                self.outputs.offer(Output::Enrichment(Arc::new(e)));
            }
            Waiter::Snapshot(request) => {
                let answer = ContractSnapshot {
                    snapshot: result.ok().map(|v| snapshot_of(&v)),
                    contract: request.contract,
                    class: request.class,
                    feed: request.feed,
                };
                if request.reply.try_send(answer).is_err() {
                    // The detector is busy or restarting; its rule asks
                    // again the next day.
                    self.metrics.dropped("detector").inc();
                }
            }
        }
    }

    /// Logs a failure unless many were logged recently, so an outage yields a
    /// few lines every few seconds instead of one per alert.
    fn warn(&mut self, ticker: &str, error: Option<&LookupError>) {
        let Some(error) = error else { return };
        if let LogVerdict::Log { suppressed } = self.warnings.check(Instant::now()) {
            tracing::warn!(ticker, %error, suppressed, "REST enrichment failed");
        }
    }
}

fn count_negatives(cache: &DashMap<Symbol, CacheEntry>) -> usize {
    cache.iter().filter(|e| e.is_negative()).count()
}

impl Actor for RestFetcher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(SWEEP_EVERY, |act, _| act.sweep());
    }
}

impl Handler<crate::messages::Crash> for RestFetcher {
    type Result = ();
    fn handle(&mut self, _: crate::messages::Crash, _: &mut Context<Self>) {
        panic!("RestFetcher: crash requested");
    }
}

impl Handler<EnrichRequest> for RestFetcher {
    type Result = ();

    fn handle(&mut self, msg: EnrichRequest, ctx: &mut Context<Self>) {
        self.gauge.taken();
        let waiter = Waiter::Alert {
            id: msg.0.id,
            since: Instant::now(),
        };
        self.request(msg.0.symbol.clone(), waiter, ctx);
    }
}

impl Handler<SnapshotRequest> for RestFetcher {
    type Result = ();

    fn handle(&mut self, msg: SnapshotRequest, ctx: &mut Context<Self>) {
        self.gauge.taken();
        let key = Symbol::from(format!("{SNAPSHOT_KEY_PREFIX}{}", msg.contract));
        self.request(key, Waiter::Snapshot(msg), ctx);
    }
}

impl Handler<Lookup> for RestFetcher {
    type Result = ResponseFuture<LookupResult>;

    fn handle(&mut self, msg: Lookup, ctx: &mut Context<Self>) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.request(msg.ticker, Waiter::Lookup(tx), ctx);
        // Waiting happens in the caller's future, never in this actor.
        Box::pin(async move {
            rx.await
                .unwrap_or_else(|_| Err(LookupError::Failed("REST fetcher stopped".into())))
        })
    }
}

#[cfg(test)]
#[path = "rest_fetcher_tests.rs"]
mod tests;
