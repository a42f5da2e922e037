//! The thread behind each [`super::LineSink`]: the only place a sink blocks.
//!
//! It takes lines from a bounded channel and writes them, flushing when the
//! channel is momentarily empty and at least every [`FLUSH_EVERY`] while it is
//! not, so a burst costs one flush instead of one per line and a quiet stream
//! still shows each alert at once. It ends, after a last flush, when the actor
//! that feeds it is gone.

use std::io::Write;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};
use std::time::{Duration, Instant};

use crate::metrics::Metrics;

/// Lines that may wait for one sink's writer; beyond this the sink sheds.
pub const WRITER_QUEUE: usize = 1024;

/// Longest the writer goes without flushing while lines keep coming.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// What the actor sends its writer.
pub(super) enum Command {
    /// One line, without its newline.
    Line(String),
    /// Flush, then answer.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// Starts the writer thread of sink `name` over `out`.
pub(super) fn spawn(
    name: &'static str,
    out: Box<dyn Write + Send>,
    metrics: Metrics,
) -> std::io::Result<SyncSender<Command>> {
    let (tx, rx) = sync_channel(WRITER_QUEUE);
    let mut writer = Writer::new(name, out, metrics);
    std::thread::Builder::new()
        .name(format!("tapewatch-sink-{name}"))
        .spawn(move || writer.run(&rx))?;
    Ok(tx)
}

/// One sink's blocking half.
pub(super) struct Writer {
    name: &'static str,
    out: Box<dyn Write + Send>,
    metrics: Metrics,
    failing: bool,
    /// Lines written since the last flush.
    dirty: bool,
    last_flush: Instant,
}

impl Writer {
    /// A writer of sink `name` over `out`.
    pub(super) fn new(name: &'static str, out: Box<dyn Write + Send>, metrics: Metrics) -> Self {
        Writer {
            name,
            out,
            metrics,
            failing: false,
            dirty: false,
            last_flush: Instant::now(),
        }
    }

    /// Writes what arrives on `rx` until its sender is gone.
    pub(super) fn run(&mut self, rx: &Receiver<Command>) {
        while let Ok(command) = rx.recv() {
            self.take(command);
            // Drain what is already waiting before flushing once.
            loop {
                match rx.try_recv() {
                    Ok(command) => {
                        self.take(command);
                        if self.last_flush.elapsed() >= FLUSH_EVERY {
                            self.flush();
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        self.flush();
                        return;
                    }
                }
            }
            self.flush();
        }
        self.flush();
    }

    fn take(&mut self, command: Command) {
        match command {
            Command::Line(mut line) => {
                line.push('\n');
                let result = self.out.write_all(line.as_bytes());
                self.dirty = true;
                self.record(result.map(|()| 1), "sink write failed");
            }
            Command::Flush(ack) => {
                self.flush();
                let _ = ack.send(());
            }
        }
    }

    fn flush(&mut self) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        self.last_flush = Instant::now();
        let result = self.out.flush();
        self.record(result.map(|()| 0), "sink flush failed");
    }

    /// Counts a write (`Ok(1)`), a flush (`Ok(0)`) or an error, logging only
    /// the first error of a failing streak.
    fn record(&mut self, result: std::io::Result<u64>, what: &str) {
        match result {
            Ok(writes) => {
                self.metrics.sink_writes.inc_by(writes);
                self.failing = false;
            }
            Err(e) => {
                self.metrics.sink_errors.inc();
                if !self.failing {
                    tracing::error!(sink = self.name, error = %e, "{what}");
                }
                self.failing = true;
            }
        }
    }
}
