//! Paces a connection's events to a fixed rate.
//!
//! Events fall due one `1/rate` apart. A connection that falls behind (a slow
//! reader, or the time spent unsubscribed) gets every due event at once, in
//! bigger frames, as Polygon batches for a backed-up client; but no more than
//! one second's backlog is kept, so a long pause does not end in a flood.

use std::time::Duration;

use tokio::time::Instant;

/// How much backlog a paced connection may catch up on.
const MAX_BACKLOG: Duration = Duration::from_secs(1);

/// What the pacer allows right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// This many events may be sent now (at least one).
    Now(u64),
    /// Nothing is due before this instant.
    At(Instant),
}

/// A fixed-rate event pacer.
#[derive(Debug, Clone)]
pub struct Pacer {
    interval: Duration,
    next_due: Instant,
    /// The last event time stamped, so times never go backwards when the
    /// system clock does.
    last_stamp_ms: i64,
}

impl Pacer {
    /// A pacer for `events_per_second` (zero counts as one), starting at `now`.
    pub fn new(events_per_second: u64, now: Instant) -> Self {
        let nanos = 1_000_000_000 / events_per_second.max(1);
        Pacer {
            interval: Duration::from_nanos(nanos.max(1)),
            next_due: now,
            last_stamp_ms: i64::MIN,
        }
    }

    /// Starts afresh at `now`, so that data resuming after an idle spell (before
    /// auth, or with no data topic) does not arrive as a backlog.
    pub fn restart(&mut self, now: Instant) {
        self.next_due = now;
    }

    /// How many events are due at `now`, or when the next one will be.
    pub fn due(&mut self, now: Instant) -> Due {
        if now > self.next_due + MAX_BACKLOG {
            self.next_due = now - MAX_BACKLOG;
        }
        if now < self.next_due {
            return Due::At(self.next_due);
        }
        let behind = now.duration_since(self.next_due).as_nanos();
        let count = behind / self.interval.as_nanos() + 1;
        Due::Now(u64::try_from(count).unwrap_or(u64::MAX))
    }

    /// The event time for events sent when the wall clock reads `wall_ms`:
    /// the wall clock, but never before the previous stamp.
    pub fn stamp(&mut self, wall_ms: i64) -> i64 {
        self.last_stamp_ms = self.last_stamp_ms.max(wall_ms);
        self.last_stamp_ms
    }

    /// Records that `events` were taken.
    pub fn consume(&mut self, events: u64) {
        let nanos = self.interval.as_nanos().saturating_mul(u128::from(events));
        let step = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        self.next_due += step;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_follow_the_wall_clock_and_never_go_back() {
        let mut pacer = Pacer::new(100, Instant::now());
        let cases = [(1_000, 1_000), (1_005, 1_005), (990, 1_005), (1_010, 1_010)];
        for (wall, stamped) in cases {
            assert_eq!(pacer.stamp(wall), stamped, "wall {wall}");
        }
    }

    #[test]
    fn events_fall_due_one_interval_apart() {
        let start = Instant::now();
        let mut pacer = Pacer::new(100, start);
        assert_eq!(pacer.due(start), Due::Now(1));
        pacer.consume(1);
        assert_eq!(pacer.due(start), Due::At(start + Duration::from_millis(10)));
        let later = start + Duration::from_millis(35);
        assert_eq!(pacer.due(later), Due::Now(3));
    }

    #[test]
    fn backlog_is_capped_at_one_second() {
        let start = Instant::now();
        let mut pacer = Pacer::new(10, start);
        let much_later = start + Duration::from_secs(60);
        assert_eq!(pacer.due(much_later), Due::Now(11));
    }

    #[test]
    fn a_restart_forgets_the_backlog() {
        let start = Instant::now();
        let mut pacer = Pacer::new(100, start);
        let later = start + Duration::from_millis(500);
        pacer.restart(later);
        assert_eq!(pacer.due(later), Due::Now(1));
    }

    #[test]
    fn a_zero_rate_counts_as_one_per_second() {
        let start = Instant::now();
        let mut pacer = Pacer::new(0, start);
        pacer.consume(1);
        assert_eq!(pacer.due(start), Due::At(start + Duration::from_secs(1)));
    }
}
