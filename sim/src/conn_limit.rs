//! Massive's connection limit: one authenticated connection per key and
//! market at a time ([`super::Faults::max_connections`]).
//!
//! Keys are kept only as hashes: the registry needs to tell keys apart, not to
//! know them, and a hash cannot leak a key into a log or a debug print.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, PoisonError};

use super::instruments::Market;

/// The open authenticated connections, by market and key hash.
#[derive(Debug, Default)]
pub(crate) struct ConnectionLimit {
    open: Mutex<HashMap<(Market, u64), u64>>,
}

/// A connection's hold on its (market, key) slot, to release when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    market: Market,
    key_hash: u64,
    connection: u64,
}

impl ConnectionLimit {
    /// Takes the slot of (`market`, `key`) for `connection`, or None when
    /// another connection holds it.
    pub(crate) fn acquire(
        &self,
        market: Market,
        key: Option<&str>,
        connection: u64,
    ) -> Option<Slot> {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        let key_hash = hasher.finish();
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        match open.get(&(market, key_hash)) {
            Some(holder) if *holder != connection => None,
            _ => {
                open.insert((market, key_hash), connection);
                Some(Slot {
                    market,
                    key_hash,
                    connection,
                })
            }
        }
    }

    /// Frees a slot, unless another connection has taken it since.
    pub(crate) fn release(&self, slot: Slot) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.get(&(slot.market, slot.key_hash)) == Some(&slot.connection) {
            open.remove(&(slot.market, slot.key_hash));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_connection_per_key_and_market() {
        let limit = ConnectionLimit::default();
        let first = limit.acquire(Market::Stocks, Some("k"), 1);
        assert!(first.is_some());
        assert!(limit.acquire(Market::Stocks, Some("k"), 2).is_none());
        assert!(limit.acquire(Market::Options, Some("k"), 3).is_some());
        assert!(limit.acquire(Market::Stocks, Some("other"), 4).is_some());
        if let Some(slot) = first {
            limit.release(slot);
        }
        assert!(limit.acquire(Market::Stocks, Some("k"), 2).is_some());
    }
}
