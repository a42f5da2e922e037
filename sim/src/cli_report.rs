//! What `tapewatch sim` prints for other programs to read, one JSON object a
//! line: the script's first trades (`--print-script N`), so that a client test
//! can compare what it received with what the script sends, and the final
//! counters when the simulator stops, so that it can check what the
//! simulator saw (`stats {...}` on stderr).

use std::io::{self, Write};

use serde_json::{json, Value};

use super::{Market, Script, ScriptConfig, SimEvent, SimStats};

/// The first `count` trades of each market's script, stocks first, one JSON
/// line each: market, index, symbol, price, size, time (Unix milliseconds),
/// exchange, conditions, sequence and trade id, as the Polygon feeds send
/// them. Quotes are left out; they do not move trade indices.
pub fn script_lines(script: &ScriptConfig, count: u64) -> Vec<String> {
    let mut lines = Vec::new();
    for market in Market::ALL {
        let mut generator = Script::new(script.clone(), market);
        let mut trades = 0;
        while trades < count {
            let Some(event) = generator.next_event() else {
                break;
            };
            let SimEvent::Trade(t) = event else {
                continue;
            };
            trades += 1;
            let line = json!({
                "market": market.path(),
                "index": t.index,
                "symbol": t.symbol,
                "price": t.price,
                "size": t.size,
                "time_ms": t.time_ms,
                "exchange": t.exchange,
                "conditions": t.conditions,
                "sequence": t.sequence,
                "trade_id": t.trade_id,
            });
            lines.push(line.to_string());
        }
    }
    lines
}

/// Prints [`script_lines`] to stdout; false when stdout is gone.
pub fn print_script(script: &ScriptConfig, count: u64) -> bool {
    let mut out = io::stdout().lock();
    script_lines(script, count)
        .iter()
        .all(|line| writeln!(out, "{line}").is_ok())
        && out.flush().is_ok()
}

/// The counters of `stats` as one JSON object.
pub fn stats_json(stats: &SimStats) -> Value {
    let get = SimStats::get;
    json!({
        "connections_accepted": get(&stats.connections_accepted),
        "connections_open": get(&stats.connections_open),
        "auth_attempts": get(&stats.auth_attempts),
        "auth_failures": get(&stats.auth_failures),
        "frames_sent": get(&stats.frames_sent),
        "data_frames_sent": get(&stats.data_frames_sent),
        "stock_events_sent": get(&stats.stock_events_sent),
        "option_events_sent": get(&stats.option_events_sent),
        "rest_requests": get(&stats.rest_requests),
        "max_connections_sent": get(&stats.max_connections_sent),
        "garbage_frames_sent": get(&stats.garbage_frames_sent),
        "faults_triggered": get(&stats.faults_triggered),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_lines_are_the_first_trades_of_each_market() {
        let lines = script_lines(&ScriptConfig::default(), 3);
        let parsed: Vec<Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_default())
            .collect();
        assert_eq!(parsed.len(), 6);
        let markets: Vec<&str> = parsed.iter().filter_map(|v| v["market"].as_str()).collect();
        assert_eq!(
            markets,
            ["stocks", "stocks", "stocks", "options", "options", "options"]
        );
        let indices: Vec<u64> = parsed.iter().filter_map(|v| v["index"].as_u64()).collect();
        assert_eq!(indices, [0, 1, 2, 0, 1, 2]);
        let mut script = Script::new(ScriptConfig::default(), Market::Stocks);
        let Some(SimEvent::Trade(first)) = script.next_event() else {
            panic!("the script starts with a trade");
        };
        assert_eq!(parsed[0]["symbol"], first.symbol);
        assert_eq!(parsed[0]["price"].as_f64(), Some(first.price));
        assert_eq!(parsed[0]["time_ms"].as_i64(), Some(first.time_ms));
    }

    #[test]
    fn the_stats_line_names_every_counter() {
        let stats = SimStats::default();
        SimStats::add(&stats.auth_attempts, 2);
        let line = stats_json(&stats);
        assert_eq!(line["auth_attempts"], 2);
        assert_eq!(line["connections_accepted"], 0);
    }
}
