//! Per-subscription data staleness.
//!
//! A socket can stay connected, and even answer pings, while the data of one
//! subscription stops. Each subscribed topic learns its own usual gap between
//! deliveries and is reported stale when it has been silent for far longer
//! (`factor` times the gap, at least `min_silence_ms`). A topic is judged only
//! against itself, so one quiet, illiquid symbol is never mistaken for a dead
//! socket, and the socket is never reconnected because of it.
//!
//! Topics are judged only while the feed streams: a paused or reconnecting
//! feed delivers nothing by design, and that silence is the connection's
//! story (told by its status records), not every topic's. When streaming
//! resumes, each topic's silence is counted from then.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::events::{AssetClass, Event, Symbol};
use crate::provider::{Provider, Stream};

/// When a topic counts as stale (the `[staleness]` section of the config).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StalenessConfig {
    /// Stale when silent for more than this many usual gaps ...
    pub factor: f64,
    /// ... and for at least this long.
    pub min_silence_ms: u64,
    /// Deliveries a topic needs before its usual gap is trusted.
    pub min_samples: u32,
    /// How often topics are checked.
    pub check_interval_ms: u64,
}

impl Default for StalenessConfig {
    fn default() -> Self {
        StalenessConfig {
            factor: 30.0,
            min_silence_ms: 15_000,
            min_samples: 5,
            check_interval_ms: 1_000,
        }
    }
}

/// A topic's change of state, to be reported.
#[derive(Debug, Clone, PartialEq)]
pub struct StaleChange {
    /// The topic, as subscribed (`T.*`, `T.AAPL`).
    pub topic: String,
    /// True when it went stale, false when data came back.
    pub stale: bool,
    /// Silence so far (stale) or the length of the gap that just ended (recovered).
    pub silent_for: Duration,
    /// The topic's usual gap between deliveries.
    pub usual_gap: Duration,
}

#[derive(Debug)]
struct Watch {
    topic: String,
    last_seen: Option<Instant>,
    gap_ms: f64,
    samples: u32,
    stale: bool,
}

/// Which watch a topic feeds, and which events feed it.
#[derive(Debug)]
struct Route {
    stream: Stream,
    classes: &'static [AssetClass],
    watch: usize,
}

impl Route {
    fn takes(&self, stream: Stream, class: AssetClass) -> bool {
        self.stream == stream && self.classes.contains(&class)
    }
}

/// Tracks the topics of one feed.
///
/// The provider reads each topic ([`Provider::topic_of`]); the monitor only
/// compares what events are ([`Stream::of`]) with what topics deliver, so it
/// knows no provider's topic syntax.
#[derive(Debug)]
pub struct StalenessMonitor {
    config: StalenessConfig,
    provider: Arc<dyn Provider>,
    topics: Vec<String>,
    watches: Vec<Watch>,
    wildcard: Vec<Route>,
    specific: HashMap<Symbol, SmallVec<[Route; 1]>>,
    streaming: bool,
}

impl StalenessMonitor {
    /// A monitor with no topics, reading topics the way `provider` spells them.
    pub fn new(config: StalenessConfig, provider: Arc<dyn Provider>) -> Self {
        StalenessMonitor {
            config,
            provider,
            topics: Vec::new(),
            watches: Vec::new(),
            wildcard: Vec::new(),
            specific: HashMap::new(),
            streaming: true,
        }
    }

    /// Tells the monitor whether the feed is streaming. Nothing is judged
    /// while it is not; when it starts again, every topic's silence restarts
    /// at `now`, so the time without a connection is never held against a
    /// topic nor taken for its usual gap.
    pub fn set_streaming(&mut self, streaming: bool, now: Instant) {
        if streaming && !self.streaming {
            for w in &mut self.watches {
                if w.last_seen.is_some() {
                    w.last_seen = Some(now);
                }
            }
        }
        self.streaming = streaming;
    }

    /// Makes the watched topics equal to `topics`, keeping what is known about
    /// topics that stay. Topics the provider cannot read, or whose events
    /// tapewatch does not decode, are not watched.
    pub fn set_topics(&mut self, topics: &[String]) {
        if topics == self.topics.as_slice() {
            return;
        }
        self.topics = topics.to_vec();
        let mut old: HashMap<String, Watch> = self
            .watches
            .drain(..)
            .map(|w| (w.topic.clone(), w))
            .collect();
        self.wildcard.clear();
        self.specific.clear();
        for topic in topics {
            let Some(key) = self.provider.topic_of(topic) else {
                continue;
            };
            let route = Route {
                stream: key.stream,
                classes: key.classes,
                watch: self.watches.len(),
            };
            match key.symbol {
                None => self.wildcard.push(route),
                Some(symbol) => self.specific.entry(symbol).or_default().push(route),
            }
            self.watches.push(old.remove(topic).unwrap_or(Watch {
                topic: topic.clone(),
                last_seen: None,
                gap_ms: 0.0,
                samples: 0,
                stale: false,
            }));
        }
    }

    /// Records one delivered batch; returns topics that came back.
    pub fn observe(&mut self, events: &[Event], now: Instant) -> Vec<StaleChange> {
        let mut recovered = Vec::new();
        if self.watches.is_empty() {
            return recovered;
        }
        let mut seen = SmallVec::<[usize; 4]>::new();
        let mut see = |route: &Route| {
            if !seen.contains(&route.watch) {
                seen.push(route.watch);
            }
        };
        for event in events {
            let Some((stream, class)) = Stream::of(event) else {
                continue;
            };
            self.wildcard
                .iter()
                .filter(|r| r.takes(stream, class))
                .for_each(&mut see);
            if self.specific.is_empty() {
                continue;
            }
            // Looked up by `&str`: no symbol is copied per event.
            let routes = event.symbol().and_then(|sym| self.specific.get(sym));
            routes
                .into_iter()
                .flatten()
                .filter(|r| r.takes(stream, class))
                .for_each(&mut see);
        }
        for i in seen {
            let w = &mut self.watches[i];
            if let Some(last) = w.last_seen {
                let gap = now.duration_since(last);
                if w.stale {
                    w.stale = false;
                    recovered.push(StaleChange {
                        topic: w.topic.clone(),
                        stale: false,
                        silent_for: gap,
                        usual_gap: Duration::from_secs_f64(w.gap_ms / 1000.0),
                    });
                } else {
                    // The usual gap adapts slowly, so one long pause does not
                    // redefine normal.
                    let g = gap.as_secs_f64() * 1000.0;
                    w.gap_ms = if w.samples == 0 {
                        g
                    } else {
                        w.gap_ms * 0.9 + g * 0.1
                    };
                    w.samples += 1;
                }
            }
            w.last_seen = Some(now);
        }
        recovered
    }

    /// Topics that just went stale.
    pub fn check(&mut self, now: Instant) -> Vec<StaleChange> {
        let mut changes = Vec::new();
        if !self.streaming {
            return changes;
        }
        for w in &mut self.watches {
            let Some(last) = w.last_seen else { continue };
            if w.stale || w.samples < self.config.min_samples {
                continue;
            }
            let silent = now.duration_since(last);
            let limit_ms = (w.gap_ms * self.config.factor).max(self.config.min_silence_ms as f64);
            if silent.as_secs_f64() * 1000.0 > limit_ms {
                w.stale = true;
                changes.push(StaleChange {
                    topic: w.topic.clone(),
                    stale: true,
                    silent_for: silent,
                    usual_gap: Duration::from_secs_f64(w.gap_ms / 1000.0),
                });
            }
        }
        changes
    }

    /// Number of topics currently stale.
    pub fn stale_count(&self) -> usize {
        self.watches.iter().filter(|w| w.stale).count()
    }

    /// How often [`StalenessMonitor::check`] should run.
    pub fn check_interval(&self) -> Duration {
        Duration::from_millis(self.config.check_interval_ms.max(10))
    }
}

#[cfg(test)]
#[path = "staleness_tests.rs"]
mod tests;
