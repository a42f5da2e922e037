//! The one-line progress report printed every few seconds.

use std::time::{Duration, Instant};

use tapewatch_actors::events::EventKind;
use tapewatch_actors::messages::EnrichStatus;
use tapewatch_actors::metrics::{Metrics, STAGES};
use tapewatch_actors::ws_session::SessionSnapshot;

/// Remembers the previous reading to show rates.
pub struct Progress {
    last: Instant,
    last_events: u64,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            last: Instant::now(),
            last_events: 0,
        }
    }
}

impl Progress {
    /// One status line from the current metrics and session states.
    pub fn line(&mut self, metrics: &Metrics, sessions: &[SessionSnapshot]) -> String {
        let events: u64 = EventKind::ALL
            .iter()
            .map(|k| metrics.events(*k).get())
            .sum();
        let elapsed = self.last.elapsed().max(Duration::from_millis(1));
        let rate = (events - self.last_events.min(events)) as f64 / elapsed.as_secs_f64();
        self.last = Instant::now();
        self.last_events = events;
        let feeds: Vec<String> = sessions
            .iter()
            .map(|s| format!("{} {}", s.feed, s.state.label()))
            .collect();
        format!(
            "[tapewatch] {} | {} frames, {} events ({:.0}/s) | alerts {} | enriched ok {} failed {} skipped {} timeout {} | dropped {} | decode errors {} | reconnects {}",
            feeds.join(", "),
            metrics.frames.get(),
            events,
            rate,
            metrics.alerts_total(),
            metrics.enrichments(EnrichStatus::Ok).get(),
            metrics.enrichments(EnrichStatus::Failed).get(),
            metrics.enrichments(EnrichStatus::Skipped).get(),
            metrics.enrichments(EnrichStatus::Timeout).get(),
            metrics.dropped_total(),
            metrics.decode_errors_total(),
            metrics.reconnects.get(),
        )
    }
}

/// Depth, high-water mark and drops of every stage's queue, for the log.
pub fn queue_report(metrics: &Metrics) -> String {
    STAGES
        .iter()
        .map(|stage| {
            format!(
                "{stage} {} (max {}, dropped {})",
                metrics.depth(stage).get().max(0),
                metrics.high_water(stage).get(),
                metrics.dropped(stage).get()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_report_names_every_stage() {
        let m = Metrics::new();
        m.dropped("detector").inc_by(3);
        m.high_water("handler").set(12);
        let r = queue_report(&m);
        assert!(r.contains("handler 0 (max 12, dropped 0)"), "{r}");
        assert!(r.contains("detector 0 (max 0, dropped 3)"), "{r}");
        assert!(r.contains("subscriber"), "{r}");
    }
}
