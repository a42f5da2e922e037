//! The faults in force, switchable while the simulator runs.
//!
//! A test sets its [`Faults`] once at start ([`super::SimConfig::faults`]); a
//! soak run changes them again and again ([`super::SimHandle::set_faults`])
//! against one long-lived client. Each connection takes the faults in force
//! when it is accepted and keeps them, so a change never alters a connection
//! half-way; `faulty_connections` counts the connections accepted on each
//! market since the last change, and `rest_statuses` the REST requests since
//! then.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::faults::Faults;
use super::instruments::Market;

/// The current faults and where their counting starts.
#[derive(Debug)]
pub(crate) struct FaultPlan {
    inner: Mutex<Plan>,
}

#[derive(Debug, Clone)]
struct Plan {
    faults: Arc<Faults>,
    rest_delay: Duration,
    /// Connections accepted on stocks and options before the change.
    connections_before: [u64; 2],
    /// REST requests answered before the change.
    requests_before: u64,
}

/// What one REST request must do.
pub(crate) struct RestPlan {
    /// How long to hold the answer back.
    pub delay: Duration,
    /// The injected status, if one is due for this request.
    pub status: Option<u16>,
    /// The `Retry-After` seconds of an injected 429.
    pub retry_after_s: Option<u64>,
}

impl FaultPlan {
    pub(crate) fn new(faults: Faults, rest_delay: Duration) -> Self {
        FaultPlan {
            inner: Mutex::new(Plan {
                faults: Arc::new(faults),
                rest_delay,
                connections_before: [0; 2],
                requests_before: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Plan> {
        // Every write replaces whole fields, so a poisoned plan is still whole.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts `faults` in force from the next connection and REST request on.
    pub(crate) fn set(&self, faults: Faults, accepted: [u64; 2], requests: u64) {
        let mut plan = self.lock();
        plan.faults = Arc::new(faults);
        plan.connections_before = accepted;
        plan.requests_before = requests;
    }

    /// Holds every REST answer back by `delay` from now on.
    pub(crate) fn set_rest_delay(&self, delay: Duration) {
        self.lock().rest_delay = delay;
    }

    /// The faults of the connection numbered `index` on `market`, and whether
    /// the WebSocket faults apply to it.
    pub(crate) fn for_connection(&self, market: Market, index: u64) -> (Arc<Faults>, bool) {
        let plan = self.lock();
        let since = plan.connections_before[market_slot(market)];
        let faulty = plan.faults.is_faulty(index.saturating_sub(since));
        (Arc::clone(&plan.faults), faulty)
    }

    /// What the REST request numbered `number` must do.
    pub(crate) fn for_request(&self, number: u64) -> RestPlan {
        let plan = self.lock();
        let status = number
            .checked_sub(plan.requests_before)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| plan.faults.rest_statuses.get(i).copied());
        RestPlan {
            delay: plan.rest_delay,
            status,
            retry_after_s: plan.faults.rest_retry_after_s,
        }
    }
}

/// The index of `market` in per-market counters.
pub(crate) fn market_slot(market: Market) -> usize {
    match market {
        Market::Stocks => 0,
        Market::Options => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_counts_connections_and_requests_from_itself() {
        let plan = FaultPlan::new(Faults::default(), Duration::ZERO);
        let (_, faulty) = plan.for_connection(Market::Stocks, 0);
        assert!(faulty, "the default makes the first connection faulty");
        assert!(!plan.for_connection(Market::Stocks, 1).1);
        let faults = Faults {
            faulty_connections: 2,
            rest_statuses: vec![429, 500],
            ..Faults::default()
        };
        plan.set(faults, [5, 1], 10);
        assert!(plan.for_connection(Market::Stocks, 5).1);
        assert!(plan.for_connection(Market::Stocks, 6).1);
        assert!(!plan.for_connection(Market::Stocks, 7).1);
        assert!(plan.for_connection(Market::Options, 2).1);
        assert!(!plan.for_connection(Market::Options, 3).1);
        assert_eq!(plan.for_request(10).status, Some(429));
        assert_eq!(plan.for_request(11).status, Some(500));
        assert_eq!(plan.for_request(12).status, None);
        assert_eq!(plan.for_request(9).status, None, "before the change");
    }

    #[test]
    fn rest_delay_changes_alone() {
        let plan = FaultPlan::new(Faults::default(), Duration::ZERO);
        plan.set_rest_delay(Duration::from_secs(3));
        assert_eq!(plan.for_request(0).delay, Duration::from_secs(3));
    }
}
