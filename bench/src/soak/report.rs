//! What a soak measures: samples of the service's RSS and metrics over time,
//! and the final accounting.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use crate::memory;

/// Largest number of events in one simulated frame (the simulator's default).
pub const EVENTS_PER_FRAME: u64 = 10;

/// The service's counters at one moment, summed over their labels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    /// `tapewatch_events_total`: events decoded.
    pub events: u64,
    /// `tapewatch_dropped_total`, by stage: messages shed.
    pub dropped: BTreeMap<String, u64>,
    /// `tapewatch_decode_errors_total`.
    pub decode_errors: u64,
    /// `tapewatch_reconnects_total`.
    pub reconnects: u64,
    /// `tapewatch_restarts_total`.
    pub restarts: u64,
    /// `tapewatch_alerts_total`.
    pub alerts: u64,
    /// `tapewatch_ws_disconnects_total`: downstream clients sent away.
    pub ws_disconnects: u64,
}

/// One sample: when, how much memory, which counters.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Seconds since the soak started.
    pub at_s: f64,
    /// The service's `VmRSS`, bytes.
    pub rss: u64,
    /// Its counters, if `/metrics` answered.
    pub metrics: Option<Metrics>,
}

impl Sample {
    /// Reads the service's RSS and metrics now.
    pub async fn take(client: &reqwest::Client, http: &str, pid: u32, start: Instant) -> Self {
        Sample {
            at_s: start.elapsed().as_secs_f64(),
            rss: memory::rss_of(pid).current,
            metrics: scrape(client, http).await,
        }
    }
}

/// Reads and sums the service's counters from `/metrics`; None if it did not
/// answer or answered something that is not Prometheus text.
pub async fn scrape(client: &reqwest::Client, http: &str) -> Option<Metrics> {
    let text = client
        .get(format!("{http}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).ok()?;
    let mut m = Metrics::default();
    for sample in &scrape.samples {
        let value = match sample.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v as u64,
            _ => continue,
        };
        match sample.metric.as_str() {
            "tapewatch_events_total" => m.events += value,
            "tapewatch_decode_errors_total" => m.decode_errors += value,
            "tapewatch_reconnects_total" => m.reconnects += value,
            "tapewatch_restarts_total" => m.restarts += value,
            "tapewatch_alerts_total" => m.alerts += value,
            "tapewatch_ws_disconnects_total" => m.ws_disconnects += value,
            "tapewatch_dropped_total" => {
                let stage = sample.labels.get("stage").unwrap_or("?").to_owned();
                *m.dropped.entry(stage).or_default() += value;
            }
            _ => {}
        }
    }
    Some(m)
}

/// Symbol-scope alerts in the JSONL file, by kind.
pub fn alerts_by_kind(path: &Path) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let text = std::fs::read_to_string(path).unwrap_or_default();
    for line in text.lines() {
        let Ok(record) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if record["type"] == "alert" && record["scope"] == "symbol" {
            let kind = record["kind"].as_str().unwrap_or("?").to_owned();
            *out.entry(kind).or_default() += 1;
        }
    }
    out
}

/// Least-squares slope of `(x, y)` points; zero for fewer than two.
pub fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return 0.0;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let cov: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let var: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if var == 0.0 {
        0.0
    } else {
        cov / var
    }
}

/// The whole soak's outcome.
#[derive(Debug)]
pub struct SoakReport {
    /// The flags it ran with.
    pub args: String,
    /// Every sample, the first at start, the last after the faults healed.
    pub samples: Vec<Sample>,
    /// Events the simulator handed to the service's sockets.
    pub events_sent: u64,
    /// Anomalies the script injected into what it generated.
    pub injected: usize,
    /// Symbol-scope alerts written, by kind.
    pub alerts: BTreeMap<String, u64>,
    /// How often each fault was injected.
    pub faults: BTreeMap<String, u64>,
    /// How the service exited on SIGTERM.
    pub exit: String,
}

impl SoakReport {
    fn last(&self) -> Metrics {
        self.samples
            .iter()
            .rev()
            .find_map(|s| s.metrics.clone())
            .unwrap_or_default()
    }

    /// Events neither processed nor shed in a counted way. The handler and
    /// detector stages count sheds per frame, of at most
    /// [`EVENTS_PER_FRAME`] events each, so when any frame was shed this is
    /// a lower bound; with none shed it is exact.
    pub fn unaccounted(&self) -> u64 {
        let last = self.last();
        let frames_shed: u64 = ["handler", "detector"]
            .iter()
            .filter_map(|stage| last.dropped.get(*stage))
            .sum();
        self.events_sent
            .saturating_sub(last.events)
            .saturating_sub(frames_shed.saturating_mul(EVENTS_PER_FRAME))
    }

    /// RSS growth in MB per 10 minutes after warm-up (the first fifth of
    /// the run, at least one minute).
    pub fn rss_slope_mb_per_10min(&self) -> f64 {
        let end = self.samples.last().map_or(0.0, |s| s.at_s);
        let warm = (end / 5.0).max(60.0);
        let points: Vec<(f64, f64)> = self
            .samples
            .iter()
            .filter(|s| s.at_s >= warm && s.rss > 0)
            .map(|s| (s.at_s, s.rss as f64 / 1e6))
            .collect();
        slope(&points) * 600.0
    }

    fn lines(&self) -> Vec<(String, String)> {
        let last = self.last();
        let mb = |b: u64| format!("{:.1} MB", b as f64 / 1e6);
        let first_rss = self.samples.first().map_or(0, |s| s.rss);
        let warm_rss = self
            .samples
            .iter()
            .find(|s| s.at_s >= 60.0)
            .map_or(first_rss, |s| s.rss);
        let last_rss = self.samples.last().map_or(0, |s| s.rss);
        let alerts: u64 = self.alerts.values().sum();
        vec![
            ("command".into(), format!("tapewatch-soak {}", self.args)),
            (
                "duration".into(),
                format!("{:.0} s", self.samples.last().map_or(0.0, |s| s.at_s)),
            ),
            (
                "RSS start / after 1 min / end".into(),
                format!("{} / {} / {}", mb(first_rss), mb(warm_rss), mb(last_rss)),
            ),
            (
                "RSS slope after warm-up".into(),
                format!("{:+.2} MB per 10 min", self.rss_slope_mb_per_10min()),
            ),
            (
                "events sent / processed".into(),
                format!("{} / {}", self.events_sent, last.events),
            ),
            (
                "messages shed (counted), by stage".into(),
                format!("{:?}", last.dropped),
            ),
            ("events unaccounted".into(), self.unaccounted().to_string()),
            (
                "decode errors (hostile frames)".into(),
                last.decode_errors.to_string(),
            ),
            (
                "reconnects / restarts".into(),
                format!("{} / {}", last.reconnects, last.restarts),
            ),
            (
                "downstream clients sent away".into(),
                last.ws_disconnects.to_string(),
            ),
            (
                "anomalies injected / symbol alerts".into(),
                format!(
                    "{} / {} ({:.2} per injection) {:?}",
                    self.injected,
                    alerts,
                    alerts as f64 / self.injected.max(1) as f64,
                    self.alerts
                ),
            ),
            ("faults injected".into(), format!("{:?}", self.faults)),
            ("service exit on SIGTERM".into(), self.exit.clone()),
        ]
    }

    /// The report as aligned text.
    pub fn text(&self) -> String {
        self.lines()
            .iter()
            .map(|(k, v)| format!("{k:<38} {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The report as a Markdown table.
    pub fn markdown(&self) -> String {
        let mut out = String::from("| Measure | Value |\n|---|---|\n");
        for (k, v) in self.lines() {
            out.push_str(&format!("| {k} | {v} |\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_a_line_and_of_flat_points() {
        let line: Vec<(f64, f64)> = (0..10)
            .map(|i| (f64::from(i), 2.0 * f64::from(i) + 1.0))
            .collect();
        assert!((slope(&line) - 2.0).abs() < 1e-9);
        assert_eq!(slope(&[(0.0, 5.0), (1.0, 5.0), (2.0, 5.0)]), 0.0);
        assert_eq!(slope(&[(1.0, 5.0)]), 0.0);
        assert_eq!(slope(&[(1.0, 5.0), (1.0, 6.0)]), 0.0, "no spread in x");
    }
}
