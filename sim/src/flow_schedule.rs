//! Where the script injects options flow (premium whales, sweeps, volume over
//! open interest), and the events each injection adds.
//!
//! Flow injections are off unless [`ScriptConfig::flow`] is set. When on,
//! flow injection `m` (from 0) follows trade index
//! `anomaly_start + interval / 2 + m * interval` of the options market,
//! halfway between two statistical injections, and its kind is
//! [`FLOW_KINDS`]`[m % 3]`. Its events are extra: like quotes they carry the
//! event time of the trade they follow (sweep legs a millisecond apart) and
//! do not count as trades in the schedule's indices, so the rest of the
//! script is the same with flow on or off.
//!
//! Each kind trades a contract of its own that nothing else trades, so the
//! statistical rules never see a baseline for it and stay quiet: a premium
//! whale is one print of 40 deep-in-the-money META calls at the ask
//! ($1.06 M); a sweep is five prints of 100 AMD calls at the ask on five
//! exchanges, each marked intermarket sweep (condition 219), $200 k each; a
//! volume over open interest is six prints of 200 AMZN calls at $0.50, 1 200
//! contracts against an open interest of 1 000 (the simulator's snapshot
//! serves it). That rule fires once per contract per day, so only the first
//! such injection of each event-time UTC day is expected to alert.

use tapewatch_actors::messages::AnomalyKind;

use super::instruments::{Market, OPTION_EXCHANGES};
use super::schedule::{trade_time_ms, Injection, ScriptConfig};
use super::sim_event::{SimEvent, SimQuote, SimTrade};

/// The flow kinds, in injection order.
pub const FLOW_KINDS: [AnomalyKind; 3] = [
    AnomalyKind::Premium,
    AnomalyKind::Sweep,
    AnomalyKind::VolumeOverOi,
];

/// The contract each flow kind trades.
pub const FLOW_CONTRACTS: [&str; 3] = [
    "O:META261218C00400000",
    "O:AMD261218C00200000",
    "O:AMZN261218C00250000",
];

/// Open interest the simulator's snapshot reports for the volume over open
/// interest contract.
pub const FLOW_OPEN_INTEREST: u64 = 1_000;

/// Open interest of every other contract: far more than the script trades of
/// any contract in a day at any pace, so only the injection fires.
pub const OTHER_OPEN_INTEREST: u64 = 1_000_000_000;

/// Intermarket sweep order, as Polygon numbers OPRA conditions.
const ISO: &[i32] = &[219];
/// Automatic execution, the usual electronic print.
const AUTO: &[i32] = &[209];

const DAY_MS: i64 = 86_400_000;

/// Trade index after which flow injection `m` comes, and its kind; None when
/// flow is off or the index would overflow.
pub(crate) fn flow_slot(cfg: &ScriptConfig, m: u64) -> Option<(u64, usize)> {
    if !cfg.flow {
        return None;
    }
    let interval = cfg.injection_interval();
    let index = m
        .checked_mul(interval)
        .and_then(|o| o.checked_add(interval / 2))
        .and_then(|o| cfg.anomaly_start.checked_add(o))?;
    Some((index, (m % 3) as usize))
}

/// Every flow injection that follows one of the first `trades` trades of the
/// options market and is expected to alert, in order.
pub fn flow_injections(cfg: &ScriptConfig, trades: u64) -> Vec<Injection> {
    let mut out: Vec<Injection> = Vec::new();
    let mut oi_days: Vec<i64> = Vec::new();
    let mut m = 0;
    while let Some((index, k)) = flow_slot(cfg, m) {
        if index >= trades {
            break;
        }
        m += 1;
        let time = trade_time_ms(cfg, Market::Options, index);
        if FLOW_KINDS[k] == AnomalyKind::VolumeOverOi {
            let day = time.div_euclid(DAY_MS);
            if oi_days.contains(&day) {
                continue;
            }
            oi_days.push(day);
        }
        out.push(Injection {
            index,
            symbol: FLOW_CONTRACTS[k].to_owned(),
            kind: FLOW_KINDS[k],
            event_time_ms: time,
            end_time_ms: time + legs(k) - 1,
        });
    }
    out
}

/// Prints in an injection of kind number `k`.
fn legs(k: usize) -> i64 {
    match FLOW_KINDS[k] {
        AnomalyKind::Sweep => 5,
        AnomalyKind::VolumeOverOi => 6,
        _ => 1,
    }
}

/// Numbers the flow injections' own trades and quotes.
#[derive(Debug, Clone, Default)]
pub(crate) struct FlowCounters {
    /// The `q` of flow trades.
    pub trade_sequence: u64,
}

/// The events of flow injection kind number `k`, after trade `after`.
pub(crate) fn flow_events(
    k: usize,
    after: &SimTrade,
    counters: &mut FlowCounters,
    quote_sequence: &mut u64,
) -> Vec<SimEvent> {
    let symbol = FLOW_CONTRACTS[k];
    let (price, bid, size, legs, conditions) = match FLOW_KINDS[k] {
        AnomalyKind::Premium => (265.0, Some(264.5), 40, 1, AUTO),
        AnomalyKind::Sweep => (20.0, Some(19.9), 100, 5, ISO),
        _ => (0.5, None, 200, 6, &[][..]),
    };
    let mut events = Vec::new();
    if let Some(bid) = bid {
        *quote_sequence += 1;
        events.push(SimEvent::Quote(SimQuote {
            symbol,
            bid_exchange: OPTION_EXCHANGES[0],
            bid,
            bid_size: 50,
            ask_exchange: OPTION_EXCHANGES[1],
            ask: price,
            ask_size: 50,
            time_ms: after.time_ms,
            sequence: *quote_sequence,
            tape: 0,
        }));
    }
    for leg in 0..legs {
        counters.trade_sequence += 1;
        // A sweep takes every exchange; the other kinds print on one.
        let exchange = if FLOW_KINDS[k] == AnomalyKind::Sweep {
            OPTION_EXCHANGES[leg % OPTION_EXCHANGES.len()]
        } else {
            OPTION_EXCHANGES[5]
        };
        events.push(SimEvent::Trade(SimTrade {
            index: after.index,
            symbol,
            exchange,
            price,
            size,
            conditions,
            time_ms: after.time_ms + leg as i64,
            sequence: counters.trade_sequence,
            trade_id: 0,
            tape: 0,
        }));
    }
    events
}
