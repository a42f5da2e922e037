//! Sinks: where alerts, enrichments and status records are written.
//!
//! A sink is any actor that accepts [`Output`]; this one writes one line per
//! record to a writer (stdout or a JSONL file) through a formatter, so the same
//! actor serves machine-readable JSON lines and a human-readable demo view.
//! Later sinks (WebSocket clients, message buses) plug in beside it as other
//! `Recipient<Output>`s.
//!
//! Writing blocks: a stdout pipe that stops draining (`tapewatch run | less`)
//! or a full disk can hold a `write` forever. The actor therefore never
//! writes itself. It formats each record on its arbiter (shared with
//! RestFetcher and the other sinks) and hands the line to a thread of its own
//! through a bounded channel ([`writer`]); when that channel is full the
//! writer is stalled, and the line is shed and counted in
//! `tapewatch_dropped_total{stage="sink"}` while every other sink keeps
//! receiving. The thread batches its flushes.

use std::io::Write;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::Duration;

use actix::prelude::*;

use crate::messages::Output;
use crate::metrics::Metrics;
use crate::stage::StageGauge;

mod writer;

use writer::Command;
pub use writer::{FLUSH_EVERY, WRITER_QUEUE};

/// Turns a record into one line of text, or `None` to skip it.
pub type Formatter = fn(&Output) -> Option<String>;

/// The standard format: one JSON object per line, tagged by `type`.
pub fn json_line(output: &Output) -> Option<String> {
    serde_json::to_string(output).ok()
}

/// Flushes buffered lines; answered once they reached the writer, or after
/// [`FLUSH_WAIT`] if the writer is stalled.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Flush;

/// Longest a [`Flush`] waits for a stalled writer.
pub const FLUSH_WAIT: Duration = Duration::from_secs(1);

/// A sink writing one line per record, on a thread of its own.
pub struct LineSink {
    name: &'static str,
    lines: Option<SyncSender<Command>>,
    format: Formatter,
    metrics: Metrics,
    gauge: StageGauge,
}

impl LineSink {
    /// A sink called `name` writing to `writer` in `format`, with its writer
    /// thread started. If the thread cannot be started every record is
    /// counted as a sink error.
    pub fn new(
        name: &'static str,
        writer: Box<dyn Write + Send>,
        format: Formatter,
        metrics: Metrics,
        gauge: StageGauge,
    ) -> Self {
        let lines = match writer::spawn(name, writer, metrics.clone()) {
            Ok(lines) => Some(lines),
            Err(e) => {
                tracing::error!(sink = name, error = %e, "cannot start the sink's writer thread");
                None
            }
        };
        LineSink {
            name,
            lines,
            format,
            metrics,
            gauge,
        }
    }
}

impl Actor for LineSink {
    type Context = Context<Self>;
}

impl Handler<Output> for LineSink {
    type Result = ();

    fn handle(&mut self, output: Output, _: &mut Context<Self>) {
        self.gauge.taken();
        let Some(line) = (self.format)(&output) else {
            return;
        };
        let Some(lines) = &self.lines else {
            self.metrics.sink_errors.inc();
            return;
        };
        match lines.try_send(Command::Line(line)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                // The writer is stuck: shed rather than wait on this thread.
                self.metrics.dropped("sink").inc();
            }
            Err(TrySendError::Disconnected(_)) => {
                self.metrics.sink_errors.inc();
                tracing::error!(sink = self.name, "the sink's writer thread is gone");
                self.lines = None;
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
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _: Flush, _: &mut Context<Self>) -> Self::Result {
        let lines = self.lines.clone();
        Box::pin(async move {
            let Some(lines) = lines else { return };
            let deadline = tokio::time::Instant::now() + FLUSH_WAIT;
            let (ack, done) = tokio::sync::oneshot::channel();
            let mut command = Command::Flush(ack);
            // A full channel means the writer is busy or stuck; try again
            // until the deadline, never blocking the arbiter.
            loop {
                match lines.try_send(command) {
                    Ok(()) => break,
                    Err(TrySendError::Full(back)) if tokio::time::Instant::now() < deadline => {
                        command = back;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err(_) => return,
                }
            }
            let _ = tokio::time::timeout_at(deadline, done).await;
        })
    }
}

#[cfg(test)]
mod tests;
