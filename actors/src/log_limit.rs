//! Rate limiting for log lines caused by outside input.
//!
//! A feed that sends garbage can send it millions of times a second; every
//! occurrence is counted in metrics, but only the first few per interval are
//! logged, followed by one line saying how many were suppressed.

use std::time::{Duration, Instant};

/// Allows at most `burst` log lines per `interval`.
#[derive(Debug)]
pub struct LogLimiter {
    interval: Duration,
    burst: u32,
    window_start: Option<Instant>,
    logged: u32,
    suppressed: u64,
}

/// What the caller should do with one occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogVerdict {
    /// Log it; `suppressed` occurrences since the last logged one were not logged.
    Log {
        /// Occurrences hidden since the previous logged line.
        suppressed: u64,
    },
    /// Count it but do not log it.
    Quiet,
}

impl LogLimiter {
    /// A limiter allowing `burst` lines per `interval`.
    pub fn new(interval: Duration, burst: u32) -> Self {
        LogLimiter {
            interval,
            burst,
            window_start: None,
            logged: 0,
            suppressed: 0,
        }
    }

    /// Decides about one occurrence at `now`.
    pub fn check(&mut self, now: Instant) -> LogVerdict {
        let fresh = self
            .window_start
            .is_none_or(|start| now.duration_since(start) >= self.interval);
        if fresh {
            self.window_start = Some(now);
            self.logged = 0;
        }
        if self.logged < self.burst {
            self.logged += 1;
            let suppressed = std::mem::take(&mut self.suppressed);
            LogVerdict::Log { suppressed }
        } else {
            self.suppressed += 1;
            LogVerdict::Quiet
        }
    }
}

impl Default for LogLimiter {
    /// Five lines per ten seconds.
    fn default() -> Self {
        LogLimiter::new(Duration::from_secs(10), 5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_reports_what_it_hid() {
        let mut l = LogLimiter::new(Duration::from_secs(10), 2);
        let t0 = Instant::now();
        let verdicts: Vec<_> = (0..5).map(|_| l.check(t0)).collect();
        assert_eq!(
            verdicts,
            vec![
                LogVerdict::Log { suppressed: 0 },
                LogVerdict::Log { suppressed: 0 },
                LogVerdict::Quiet,
                LogVerdict::Quiet,
                LogVerdict::Quiet,
            ]
        );
        assert_eq!(
            l.check(t0 + Duration::from_secs(11)),
            LogVerdict::Log { suppressed: 3 }
        );
    }
}
