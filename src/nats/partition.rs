//! The partition function of the event subjects.
//!
//! An event goes to partition `fnv1a64(key) % partitions`, where the key is
//! the underlying for an option contract (so every contract of an underlying
//! meets the underlying-level rules in one worker) and the symbol otherwise.
//! FNV-1a 64 (offset basis `0xcbf29ce484222325`, prime `0x100000001b3`, over
//! the key's UTF-8 bytes) is stable across versions and platforms and easy to
//! reimplement in any language.

use tapewatch_actors::option_ticker;

/// The subject of partition `p`: `tapewatch.events.<p>`.
pub fn events_subject(partition: u32) -> String {
    format!("{EVENTS_SUBJECT_PREFIX}{partition}")
}

/// Prefix of the event subjects.
pub const EVENTS_SUBJECT_PREFIX: &str = "tapewatch.events.";

/// FNV-1a, 64 bits.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// What a symbol is partitioned by: the underlying of an option ticker
/// (with or without the `O:` prefix), the symbol itself otherwise.
pub fn partition_key(symbol: &str) -> &str {
    option_ticker::parse(symbol)
        .or_else(|| option_ticker::parse_unprefixed(symbol))
        .map_or(symbol, |t| t.underlying)
}

/// The partition of `symbol` among `partitions` (at least 1).
pub fn partition_of(symbol: &str, partitions: u32) -> u32 {
    let n = u64::from(partitions.max(1));
    // The remainder is below `partitions`, so it fits.
    u32::try_from(fnv1a64(partition_key(symbol).as_bytes()) % n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_reference_vectors() {
        let cases: [(&str, u64); 3] = [
            ("", 0xcbf2_9ce4_8422_2325),
            ("a", 0xaf63_dc4c_8601_ec8c),
            ("foobar", 0x8594_4171_f739_67e8),
        ];
        for (input, want) in cases {
            assert_eq!(fnv1a64(input.as_bytes()), want, "{input:?}");
        }
    }

    #[test]
    fn options_go_with_their_underlying() {
        let cases = [
            ("AAPL", "AAPL"),
            ("O:NVDA261218C00500000", "NVDA"),
            ("NVDA261218C00500000", "NVDA"),
            ("O:SPXW261218P04000000", "SPXW"),
            ("BRK.B", "BRK.B"),
        ];
        for (symbol, key) in cases {
            assert_eq!(partition_key(symbol), key, "{symbol}");
        }
        for n in [1, 2, 4, 16] {
            assert_eq!(
                partition_of("O:NVDA261218C00500000", n),
                partition_of("NVDA", n)
            );
            assert!(partition_of("AAPL", n) < n);
        }
        assert_eq!(partition_of("AAPL", 0), 0, "no partitions count as one");
    }
}
