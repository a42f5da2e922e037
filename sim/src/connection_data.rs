//! The data side of a connection: pulling events from the market's shared
//! script into frames at the configured pace, in the wire format of the
//! connection's protocol, and handing frames (hostile ones first) to the
//! socket once it has room for them.

use std::pin::Pin;
use std::sync::{Arc, PoisonError};

use actix_ws::{Closed, Session};
use futures_util::Sink;
use tokio::time::Instant;

use super::alpaca_feed::Encoding;
use super::alpaca_garbage;
use super::alpaca_wire::{data_frame, Payload};
use super::connection::Connection;
use super::instruments::Market;
use super::pacing::Due;
use super::sim_event::SimEvent;
use super::stats::SimStats;
use super::wire::FrameWriter;

/// How often a held connection looks whether it may send again.
const HOLD_POLL: std::time::Duration = std::time::Duration::from_millis(20);

/// Events an unpaced connection may pull and filter out before it yields.
const MAX_PULL_PER_STEP: usize = 1024;

/// The wire format of a connection's data frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FrameFormat {
    /// Polygon's JSON for this market.
    Polygon(Market),
    /// Alpaca's messages in this encoding.
    Alpaca(Encoding),
}

/// A data frame waiting for the socket, with the events it holds so that it
/// can be filtered again if the subscriptions change before it goes out.
pub(super) struct PendingFrame {
    pub(super) events: Vec<SimEvent>,
    pub(super) payload: Payload,
}

impl PendingFrame {
    /// The frame of `events` in `format`, or None when empty.
    pub(super) fn build(format: FrameFormat, events: Vec<SimEvent>) -> Option<Self> {
        let payload = match format {
            FrameFormat::Polygon(market) => {
                let mut writer = FrameWriter::new(market);
                for event in &events {
                    writer.push(event);
                }
                Payload::Text(writer.finish()?)
            }
            FrameFormat::Alpaca(encoding) => data_frame(&events, encoding)?,
        };
        Some(PendingFrame { events, payload })
    }
}

/// What a connection does next about data.
pub(super) enum Step {
    /// A frame is ready to send.
    Send(PendingFrame),
    /// Nothing is due before this instant.
    WaitUntil(Instant),
    /// Events were consumed but all filtered out; let other tasks run.
    Yield,
    /// No data to send: not authenticated, no data topics, or the script ended.
    Idle,
}

impl Connection {
    /// The wire format of this connection's data frames.
    pub(super) fn frame_format(&self) -> FrameFormat {
        match self.alpaca {
            Some(_) => FrameFormat::Alpaca(self.encoding()),
            None => FrameFormat::Polygon(self.market),
        }
    }

    /// Pulls the next events from the script and builds a frame of the ones
    /// this connection subscribes to.
    pub(super) fn next_step(&mut self) -> Step {
        if !self.authenticated || !self.wants_data() || self.script_ended {
            if let Some(pacer) = self.pacer.as_mut() {
                pacer.restart(Instant::now());
            }
            return Step::Idle;
        }
        if self.shared.hold.load(std::sync::atomic::Ordering::Relaxed) {
            // Held: look again shortly, and owe no burst for the time held.
            let now = Instant::now();
            if let Some(pacer) = self.pacer.as_mut() {
                pacer.restart(now);
            }
            return Step::WaitUntil(now + HOLD_POLL);
        }
        let per_frame = self.shared.events_per_frame.max(1);
        let pull_limit = match self.pacer.as_mut().map(|p| p.due(Instant::now())) {
            None => MAX_PULL_PER_STEP.max(per_frame),
            Some(Due::Now(due)) => usize::try_from(due).unwrap_or(usize::MAX).min(per_frame),
            Some(Due::At(at)) => return Step::WaitUntil(at),
        };
        let mut events = Vec::with_capacity(per_frame);
        let mut pulled = 0;
        {
            let feed = self.alpaca_feed();
            let shared = Arc::clone(&self.shared);
            let mut script = shared
                .script(self.market, feed)
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            while pulled < pull_limit && events.len() < per_frame {
                let Some(event) = script.next_event() else {
                    self.script_ended = true;
                    break;
                };
                pulled += 1;
                // Alpaca's test feed shows only some events, renamed.
                let shown = match feed {
                    Some(feed) => feed.view(event),
                    None => Some(event),
                };
                if let Some(event) = shown.filter(|e| self.wants(e)) {
                    events.push(event);
                }
            }
        }
        if let Some(pacer) = self.pacer.as_mut() {
            pacer.consume(pulled as u64);
            if self.shared.wall_clock {
                let now = pacer.stamp(tapewatch_actors::messages::unix_ms());
                for event in &mut events {
                    event.set_time_ms(now);
                }
            }
        }
        match PendingFrame::build(self.frame_format(), events) {
            Some(frame) => Step::Send(frame),
            None if self.script_ended => Step::Idle,
            None => Step::Yield,
        }
    }

    /// Hands the next frame, garbage first, to a session that has room for it
    /// (its `poll_ready` has answered). No flush follows: the session is a
    /// channel sender, and the frame is in the channel once `start_send`
    /// returns.
    pub(super) fn start_send(&mut self, session: &mut Session) -> Result<(), Closed> {
        let stats = Arc::clone(&self.shared.stats);
        if let Some(kind) = self.pending_garbage.take() {
            let oversize = self.faults.oversize_bytes;
            let message = match self.alpaca {
                Some(_) => alpaca_garbage::message(kind, oversize, self.encoding()),
                None => kind.message(oversize),
            };
            Pin::new(session).start_send(message)?;
            stats.count_garbage(kind);
            self.garbage_frames += 1;
            return Ok(());
        }
        let Some(frame) = self.pending.take() else {
            return Ok(());
        };
        Pin::new(session).start_send(frame.payload.into_message())?;
        SimStats::add(&stats.frames_sent, 1);
        SimStats::add(&stats.data_frames_sent, 1);
        SimStats::add(stats.events_counter(self.market), frame.events.len() as u64);
        self.data_frames += 1;
        self.queue_garbage();
        Ok(())
    }
}
