//! Reconnect delays: exponential growth with full jitter, capped.
//!
//! The envelope (`min`, `min·2`, `min·4`, … up to `max`) comes from backon; the
//! delay actually used is drawn uniformly between `min` and the envelope ("full
//! jitter"), so a fleet of clients that lost the same server spreads its
//! reconnects out instead of arriving together. backon's own jitter adds up to
//! one more envelope on top, which can double the cap, so it is not used.

use std::time::Duration;

use backon::BackoffBuilder;
use rand::Rng;

/// The sequence of delays between connection attempts.
#[derive(Debug)]
pub struct ReconnectBackoff {
    min: Duration,
    max: Duration,
    envelope: backon::ExponentialBackoff,
}

impl ReconnectBackoff {
    /// Delays between `min` and `max`.
    pub fn new(min: Duration, max: Duration) -> Self {
        let max = max.max(min);
        ReconnectBackoff {
            min,
            max,
            envelope: backon::ExponentialBuilder::default()
                .with_min_delay(min)
                .with_max_delay(max)
                .with_factor(2.0)
                .without_max_times()
                .build(),
        }
    }

    /// Starts over from `min` (after a healthy connection).
    pub fn reset(&mut self) {
        *self = ReconnectBackoff::new(self.min, self.max);
    }

    /// The next delay, using `rng` for the jitter.
    pub fn next_with(&mut self, rng: &mut impl Rng) -> Duration {
        let ceiling = self.envelope.next().unwrap_or(self.max).min(self.max);
        if ceiling <= self.min {
            return self.min;
        }
        let span = (ceiling - self.min).as_secs_f64();
        self.min + Duration::from_secs_f64(rng.random::<f64>() * span)
    }

    /// The next delay.
    pub fn next_delay(&mut self) -> Duration {
        self.next_with(&mut rand::rng())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn delays_grow_stay_within_the_envelope_and_the_cap() {
        let min = Duration::from_millis(100);
        let max = Duration::from_secs(3);
        let mut b = ReconnectBackoff::new(min, max);
        let mut rng = StdRng::seed_from_u64(1);
        let envelopes = [100, 200, 400, 800, 1600, 3000, 3000, 3000];
        for ceiling in envelopes {
            let d = b.next_with(&mut rng);
            assert!(
                d >= min && d <= Duration::from_millis(ceiling),
                "{d:?} > {ceiling} ms"
            );
        }
    }

    #[test]
    fn jitter_spreads_the_delays() {
        let mut rng = StdRng::seed_from_u64(2);
        let delays: Vec<_> = (0..50)
            .map(|_| {
                let mut b =
                    ReconnectBackoff::new(Duration::from_millis(10), Duration::from_secs(10));
                (0..8)
                    .map(|_| b.next_with(&mut rng))
                    .last()
                    .unwrap_or_default()
            })
            .collect();
        let lo = delays.iter().min().copied().unwrap_or_default();
        let hi = delays.iter().max().copied().unwrap_or_default();
        assert!(hi - lo > Duration::from_millis(500), "{lo:?}..{hi:?}");
    }

    #[test]
    fn reset_starts_over() {
        let mut b = ReconnectBackoff::new(Duration::from_millis(50), Duration::from_secs(5));
        for _ in 0..10 {
            b.next_delay();
        }
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_millis(50));
    }
}
