//! `--summary` and `--summary-json`: the alerts of a replay counted per kind
//! and per symbol, so two detector settings can be compared on the same day.
//!
//! [`AlertTally`] is an extension actor subscribed to the pipeline's outputs;
//! [`Summary`] is what it counted, rendered as a table or as JSON.

use std::collections::BTreeMap;

use actix::prelude::*;
use serde::Serialize;
use tapewatch_actors::messages::{AnomalyKind, Output, Scope};

/// Counts alerts as they come out of the pipeline.
#[derive(Default)]
pub struct AlertTally {
    summary: Summary,
}

impl Actor for AlertTally {
    type Context = Context<Self>;
}

impl Handler<Output> for AlertTally {
    type Result = ();
    fn handle(&mut self, output: Output, _: &mut Context<Self>) {
        if let Output::Alert(alert) = output {
            let kind = alert.kind.label();
            let symbol = match alert.scope {
                Scope::Symbol => alert.symbol.to_string(),
                // The options flow of an underlying is told apart from the stock.
                Scope::Underlying => format!("{} (options flow)", alert.symbol),
            };
            self.summary.alerts += 1;
            *self.summary.by_kind.entry(kind).or_default() += 1;
            let row = self.summary.by_symbol.entry(symbol).or_default();
            *row.entry(kind).or_default() += 1;
        }
    }
}

/// Asks for the tally so far.
#[derive(Message)]
#[rtype(result = "Summary")]
pub struct TakeSummary;

impl Handler<TakeSummary> for AlertTally {
    type Result = MessageResult<TakeSummary>;
    fn handle(&mut self, _: TakeSummary, _: &mut Context<Self>) -> Self::Result {
        MessageResult(std::mem::take(&mut self.summary))
    }
}

/// Alerts per kind and per symbol, with what the replay read.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// All alerts.
    pub alerts: u64,
    /// Alerts per kind.
    pub by_kind: BTreeMap<&'static str, u64>,
    /// Alerts per symbol, then per kind.
    pub by_symbol: BTreeMap<String, BTreeMap<&'static str, u64>>,
    /// What was read and what went wrong.
    pub input: InputReport,
}

/// What the replay read, for the summary.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct InputReport {
    /// Recording files opened.
    pub files: u64,
    /// Frames replayed.
    pub frames: u64,
    /// Events decoded from them.
    pub events: u64,
    /// Problems in the recording, by kind (`corrupt_frame`, `truncated`, ...).
    pub problems: BTreeMap<&'static str, u64>,
    /// Entries the recorder had shed (gap lines).
    pub recorder_gaps: u64,
    /// Messages the pipeline shed during the replay (should be 0).
    pub dropped: u64,
}

impl Summary {
    /// The table `--summary` prints: one row per symbol, one column per kind.
    pub fn table(&self) -> String {
        let kinds: Vec<&str> = AnomalyKind::ALL.iter().map(|k| k.label()).collect();
        let width = self
            .by_symbol
            .keys()
            .map(String::len)
            .chain(["symbol".len(), "all".len()])
            .max()
            .unwrap_or(6);
        let mut out = format!("{:<width$}", "symbol");
        for k in &kinds {
            out += &format!("  {k:>12}");
        }
        out += &format!("  {:>8}\n", "total");
        let mut row = |name: &str, counts: &BTreeMap<&'static str, u64>| {
            out += &format!("{name:<width$}");
            for k in &kinds {
                out += &format!("  {:>12}", counts.get(k).copied().unwrap_or(0));
            }
            out += &format!("  {:>8}\n", counts.values().sum::<u64>());
        };
        for (symbol, counts) in &self.by_symbol {
            row(symbol, counts);
        }
        row("all", &self.by_kind);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_a_row_per_symbol_and_a_total_row() {
        let mut s = Summary {
            alerts: 3,
            by_kind: [("volume_spike", 2), ("trade_burst", 1)].into(),
            ..Summary::default()
        };
        s.by_symbol
            .insert("AAPL".into(), [("volume_spike", 2)].into());
        s.by_symbol
            .insert("NVDA (options flow)".into(), [("trade_burst", 1)].into());
        let table = s.table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        let cells = |l: &str| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        // A column per kind the detector knows, in its order, then the total.
        assert_eq!(
            cells(lines[0]),
            [
                "symbol",
                "volume_spike",
                "price_jump",
                "trade_burst",
                "premium",
                "sweep",
                "volume_over_oi",
                "total"
            ]
        );
        assert_eq!(cells(lines[1]), ["AAPL", "2", "0", "0", "0", "0", "0", "2"]);
        assert_eq!(
            cells(lines[2]),
            ["NVDA", "(options", "flow)", "0", "0", "1", "0", "0", "0", "1"]
        );
        assert_eq!(cells(lines[3]), ["all", "2", "0", "1", "0", "0", "0", "3"]);
    }
}
