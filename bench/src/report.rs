//! The benchmark's results: a table of figures against their targets, with
//! per-scenario detail lines, printed as text or written as Markdown.

use std::fmt::Write as _;

/// How a figure compares with its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Meets the target.
    Pass,
    /// Misses the target.
    Miss,
    /// No target; reported for information.
    Info,
}

impl Verdict {
    /// `Pass` when `ok`, else `Miss`.
    pub fn of(ok: bool) -> Verdict {
        if ok {
            Verdict::Pass
        } else {
            Verdict::Miss
        }
    }

    fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "met",
            Verdict::Miss => "MISSED",
            Verdict::Info => "",
        }
    }
}

/// One line of the results table.
#[derive(Debug, Clone)]
pub struct Row {
    /// What was measured.
    pub figure: String,
    /// The measurement.
    pub value: String,
    /// The target, if any.
    pub target: String,
    /// How it compares.
    pub verdict: Verdict,
}

/// Everything a run measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Facts about the run (machine, command, load) shown first.
    pub header: Vec<String>,
    /// The results table.
    pub rows: Vec<Row>,
    /// Detail lines by scenario, in run order.
    pub details: Vec<(String, Vec<String>)>,
}

impl Report {
    /// Adds a row.
    pub fn row(
        &mut self,
        figure: impl Into<String>,
        value: impl Into<String>,
        target: &str,
        verdict: Verdict,
    ) {
        self.rows.push(Row {
            figure: figure.into(),
            value: value.into(),
            target: target.to_owned(),
            verdict,
        });
    }

    /// Adds a detail line under `section`.
    pub fn detail(&mut self, section: &str, line: impl Into<String>) {
        match self.details.iter_mut().find(|(s, _)| s == section) {
            Some((_, lines)) => lines.push(line.into()),
            None => self.details.push((section.to_owned(), vec![line.into()])),
        }
    }

    /// The table and details as plain text.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for h in &self.header {
            let _ = writeln!(out, "{h}");
        }
        let w0 = self
            .rows
            .iter()
            .map(|r| r.figure.len())
            .max()
            .unwrap_or(6)
            .max(6);
        let w1 = self
            .rows
            .iter()
            .map(|r| r.value.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let w2 = self
            .rows
            .iter()
            .map(|r| r.target.len())
            .max()
            .unwrap_or(6)
            .max(6);
        let _ = writeln!(
            out,
            "\n{:w0$}  {:>w1$}  {:w2$}  verdict",
            "figure", "value", "target"
        );
        for r in &self.rows {
            let _ = writeln!(
                out,
                "{:w0$}  {:>w1$}  {:w2$}  {}",
                r.figure,
                r.value,
                r.target,
                r.verdict.label()
            );
        }
        for (section, lines) in &self.details {
            let _ = writeln!(out, "\n[{section}]");
            for l in lines {
                let _ = writeln!(out, "  {l}");
            }
        }
        out
    }

    /// The table and details as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        for h in &self.header {
            let _ = writeln!(out, "- {h}");
        }
        out.push_str("\n| Figure | Value | Target | Verdict |\n|---|---:|---|---|\n");
        for r in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                r.figure,
                r.value,
                r.target,
                r.verdict.label()
            );
        }
        for (section, lines) in &self.details {
            let _ = writeln!(out, "\n**{section}**\n");
            for l in lines {
                let _ = writeln!(out, "- {l}");
            }
        }
        out
    }
}

/// A rate in events per second, e.g. `1.93 M/s` or `412 k/s`.
pub fn rate(per_second: f64) -> String {
    if per_second >= 1e6 {
        format!("{:.2} M/s", per_second / 1e6)
    } else {
        format!("{:.0} k/s", per_second / 1e3)
    }
}

/// Bytes in binary units, e.g. `118.3 MiB`.
pub fn bytes(n: u64) -> String {
    let n = n as f64;
    if n >= (1u64 << 30) as f64 {
        format!("{:.2} GiB", n / (1u64 << 30) as f64)
    } else if n >= (1u64 << 20) as f64 {
        format!("{:.1} MiB", n / (1u64 << 20) as f64)
    } else if n >= 1024.0 {
        format!("{:.1} KiB", n / 1024.0)
    } else {
        format!("{n:.0} B")
    }
}

/// Microseconds with a sensible precision.
pub fn micros(us: f64) -> String {
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1_000.0)
    } else {
        format!("{us:.0} µs")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_tables() {
        assert_eq!(rate(1_934_000.0), "1.93 M/s");
        assert_eq!(rate(412_300.0), "412 k/s");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 << 20), "3.0 MiB");
        assert_eq!(micros(87.4), "87 µs");
        assert_eq!(micros(12_345.0), "12.3 ms");
        let mut r = Report::default();
        r.row("Throughput", "2.10 M/s", "≥ 2 M/s", Verdict::Pass);
        r.detail("throughput", "drops 0");
        let md = r.markdown();
        assert!(
            md.contains("| Throughput | 2.10 M/s | ≥ 2 M/s | met |"),
            "{md}"
        );
        assert!(r.text().contains("[throughput]"));
    }
}
