//! Sinks: where alerts, enrichments and status records are written.
//!
//! A sink is any actor that accepts [`Output`]; this one writes one line per
//! record to a writer (stdout or a JSONL file) through a formatter, so the same
//! actor serves machine-readable JSON lines and a human-readable demo view.
//! Later sinks (WebSocket clients, message buses) plug in beside it as other
//! `Recipient<Output>`s.

use std::io::Write;

use actix::prelude::*;

use crate::messages::Output;
use crate::metrics::Metrics;
use crate::stage::StageGauge;

/// Turns a record into one line of text, or `None` to skip it.
pub type Formatter = fn(&Output) -> Option<String>;

/// The standard format: one JSON object per line, tagged by `type`.
pub fn json_line(output: &Output) -> Option<String> {
    serde_json::to_string(output).ok()
}

/// Flushes buffered lines; answered once they reached the writer.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Flush;

/// A sink writing one line per record.
pub struct LineSink {
    name: &'static str,
    writer: Box<dyn Write + Send>,
    format: Formatter,
    metrics: Metrics,
    gauge: StageGauge,
    failing: bool,
}

impl LineSink {
    /// A sink called `name` writing to `writer` in `format`.
    pub fn new(
        name: &'static str,
        writer: Box<dyn Write + Send>,
        format: Formatter,
        metrics: Metrics,
        gauge: StageGauge,
    ) -> Self {
        LineSink {
            name,
            writer,
            format,
            metrics,
            gauge,
            failing: false,
        }
    }
}

impl Actor for LineSink {
    type Context = Context<Self>;

    fn stopped(&mut self, _: &mut Context<Self>) {
        let _ = self.writer.flush();
    }
}

impl Handler<Output> for LineSink {
    type Result = ();

    fn handle(&mut self, output: Output, _: &mut Context<Self>) {
        self.gauge.taken();
        let Some(mut line) = (self.format)(&output) else {
            return;
        };
        line.push('\n');
        // Alerts are rare and must be visible at once, so every line is flushed.
        let result = self
            .writer
            .write_all(line.as_bytes())
            .and_then(|()| self.writer.flush());
        match result {
            Ok(()) => {
                self.metrics.sink_writes.inc();
                self.failing = false;
            }
            Err(e) => {
                self.metrics.sink_errors.inc();
                if !self.failing {
                    tracing::error!(sink = self.name, error = %e, "sink write failed");
                }
                self.failing = true;
            }
        }
    }
}

impl Handler<crate::messages::Crash> for LineSink {
    type Result = ();
    fn handle(&mut self, _: crate::messages::Crash, _: &mut Context<Self>) {
        panic!("LineSink: crash requested");
    }
}

impl Handler<Flush> for LineSink {
    type Result = ();
    fn handle(&mut self, _: Flush, _: &mut Context<Self>) {
        if let Err(e) = self.writer.flush() {
            self.metrics.sink_errors.inc();
            tracing::error!(sink = self.name, error = %e, "sink flush failed");
        }
    }
}
