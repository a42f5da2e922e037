//! Per-subscription data staleness.
//!
//! A socket can stay connected, and even answer pings, while the data of one
//! subscription stops. Each subscribed topic learns its own usual gap between
//! deliveries and is reported stale when it has been silent for far longer
//! (`factor` times the gap, at least `min_silence_ms`). A topic is judged only
//! against itself, so one quiet, illiquid symbol is never mistaken for a dead
//! socket, and the socket is never reconnected because of it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::events::{AggWindow, Event};

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

/// Tracks the topics of one feed.
#[derive(Debug, Default)]
pub struct StalenessMonitor {
    config: StalenessConfig,
    watches: Vec<Watch>,
    wildcard: HashMap<&'static str, usize>,
    specific: HashMap<(&'static str, String), usize>,
}

/// The Polygon topic prefix an event belongs to.
fn prefix(event: &Event) -> Option<&'static str> {
    match event {
        Event::Trade(t) if t.class == crate::events::AssetClass::Crypto => Some("XT"),
        Event::Trade(_) => Some("T"),
        Event::Quote(_) => Some("Q"),
        Event::Aggregate(a) if a.window == AggWindow::Second => Some("A"),
        Event::Aggregate(_) => Some("AM"),
        Event::Status(_) => None,
    }
}

fn intern(prefix: &str) -> Option<&'static str> {
    ["T", "XT", "Q", "A", "AM"].into_iter().find(|p| *p == prefix)
}

impl StalenessMonitor {
    /// A monitor with no topics.
    pub fn new(config: StalenessConfig) -> Self {
        StalenessMonitor {
            config,
            ..StalenessMonitor::default()
        }
    }

    /// Makes the watched topics equal to `topics`, keeping what is known about
    /// topics that stay.
    pub fn set_topics(&mut self, topics: &[String]) {
        if topics.len() == self.watches.len()
            && topics.iter().zip(&self.watches).all(|(t, w)| *t == w.topic)
        {
            return;
        }
        let mut old: HashMap<String, Watch> =
            self.watches.drain(..).map(|w| (w.topic.clone(), w)).collect();
        self.wildcard.clear();
        self.specific.clear();
        for topic in topics {
            let Some((p, sym)) = topic.split_once('.') else { continue };
            let Some(p) = intern(p.trim()) else { continue };
            let index = self.watches.len();
            if sym.trim() == "*" {
                self.wildcard.insert(p, index);
            } else {
                self.specific.insert((p, sym.trim().to_owned()), index);
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
        let mut seen = smallvec::SmallVec::<[usize; 4]>::new();
        for event in events {
            let Some(p) = prefix(event) else { continue };
            if let Some(&i) = self.wildcard.get(p) {
                if !seen.contains(&i) {
                    seen.push(i);
                }
            }
            if !self.specific.is_empty() {
                if let Some(sym) = event.symbol() {
                    if let Some(&i) = self.specific.get(&(p, sym.to_owned())) {
                        if !seen.contains(&i) {
                            seen.push(i);
                        }
                    }
                }
            }
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
                    w.gap_ms = if w.samples == 0 { g } else { w.gap_ms * 0.9 + g * 0.1 };
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
