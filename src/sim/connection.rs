//! One client connection: its state and its run loop.
//!
//! Each upgraded connection runs as one local task that waits on four things
//! at once: client messages, the auth deadline, the simulator's shutdown
//! signal, and its own next data frame. Client messages are therefore answered
//! even while a slow reader holds up the data. A frame is built from the
//! market's shared script only when the previous one has gone out, and it is
//! kept until the socket takes it, so a frame is never lost or reordered and
//! the only queue is actix-ws's small bounded channel, which pushes back on the
//! generator when the client reads slowly. Client messages are handled in
//! [`super::client_messages`].

use std::sync::{Arc, PoisonError};

use actix_ws::{AggregatedMessageStream, CloseCode, CloseReason, Session};
use tokio::time::{sleep_until, Instant};

use super::feed::FeedShared;
use super::instruments::Market;
use super::pacing::{Due, Pacer};
use super::sim_event::SimEvent;
use super::stats::SimStats;
use super::subscriptions::Subscriptions;
use super::wire::{status_frame, FrameWriter};

/// Events an unpaced connection may pull and filter out before it yields.
const MAX_PULL_PER_STEP: usize = 1024;

/// A data frame waiting for the socket, with the events it holds so that it
/// can be filtered again if the subscriptions change before it goes out.
pub(super) struct PendingFrame {
    pub(super) events: Vec<SimEvent>,
    text: String,
}

impl PendingFrame {
    /// The frame of `events` in `market`'s wire format, or None when empty.
    pub(super) fn build(market: Market, events: Vec<SimEvent>) -> Option<Self> {
        let mut writer = FrameWriter::new(market);
        for event in &events {
            writer.push(event);
        }
        let text = writer.finish()?;
        Some(PendingFrame { events, text })
    }
}

/// What a connection does next about data.
enum Step {
    /// A frame is ready to send.
    Send(PendingFrame),
    /// Nothing is due before this instant.
    WaitUntil(Instant),
    /// Events were consumed but all filtered out; let other tasks run.
    Yield,
    /// No data to send: not authenticated, no data topics, or the script ended.
    Idle,
}

/// Whether the connection goes on after a client message.
pub(super) enum Flow {
    /// Keep serving.
    Continue,
    /// The connection is closed or closing.
    Stop,
}

/// The state of one client connection.
pub(crate) struct Connection {
    pub(super) shared: Arc<FeedShared>,
    pub(super) market: Market,
    pub(super) authenticated: bool,
    pub(super) subscriptions: Subscriptions,
    pacer: Option<Pacer>,
    script_ended: bool,
    pub(super) pending: Option<PendingFrame>,
}

impl Connection {
    /// A fresh, unauthenticated connection to `market`.
    pub(crate) fn new(shared: Arc<FeedShared>, market: Market) -> Self {
        let pacer = shared
            .events_per_second
            .map(|rate| Pacer::new(rate, Instant::now()));
        Connection {
            shared,
            market,
            authenticated: false,
            subscriptions: Subscriptions::new(market),
            pacer,
            script_ended: false,
            pending: None,
        }
    }

    /// Serves the connection until it closes or the simulator stops.
    pub(crate) async fn run(mut self, mut session: Session, mut stream: AggregatedMessageStream) {
        let mut shutdown = self.shared.shutdown.clone();
        if *shutdown.borrow_and_update() {
            let _ = session.close(Some(CloseCode::Away.into())).await;
            return;
        }
        if self
            .send_status(&mut session, "connected", "Connected Successfully")
            .await
            .is_err()
        {
            return;
        }
        let auth_deadline = Instant::now() + self.shared.auth_timeout;
        loop {
            let mut wait_until = None;
            let mut yield_first = false;
            if self.pending.is_none() {
                match self.next_step() {
                    Step::Send(frame) => self.pending = Some(frame),
                    Step::WaitUntil(at) => wait_until = Some(at),
                    Step::Yield => yield_first = true,
                    Step::Idle => {}
                }
            }
            // The frame is cloned for each attempt: if another branch wins, the
            // attempt is dropped unsent and the frame stays pending.
            let frame = self
                .pending
                .as_ref()
                .map(|p| p.text.clone())
                .unwrap_or_default();
            let sending = self.pending.is_some();
            tokio::select! {
                biased;
                _ = shutdown.changed() => {
                    let _ = session.close(Some(CloseCode::Away.into())).await;
                    return;
                }
                message = stream.recv() => match message {
                    Some(Ok(message)) => {
                        if let Flow::Stop = self.on_message(&mut session, message).await {
                            return;
                        }
                    }
                    Some(Err(error)) => {
                        let code = match error {
                            actix_ws::ProtocolError::Overflow => CloseCode::Size,
                            _ => CloseCode::Protocol,
                        };
                        let _ = session.close(Some(code.into())).await;
                        return;
                    }
                    None => return,
                },
                _ = sleep_until(auth_deadline), if !self.authenticated => {
                    let message = "No authentication request received.";
                    let _ = self.send_status(&mut session, "auth_timeout", message).await;
                    let _ = session.close(Some(policy_close("authentication timeout"))).await;
                    return;
                }
                sent = session.text(frame), if sending => {
                    if sent.is_err() {
                        return;
                    }
                    if let Some(sent) = self.pending.take() {
                        let stats = &self.shared.stats;
                        SimStats::add(&stats.frames_sent, 1);
                        SimStats::add(&stats.data_frames_sent, 1);
                        SimStats::add(stats.events_counter(self.market), sent.events.len() as u64);
                    }
                }
                _ = sleep_until(wait_until.unwrap_or(auth_deadline)), if wait_until.is_some() => {}
                _ = tokio::task::yield_now(), if yield_first => {}
            }
        }
    }

    /// Pulls the next events from the script and builds a frame of the ones
    /// this connection subscribes to.
    fn next_step(&mut self) -> Step {
        if !self.authenticated || !self.subscriptions.wants_data() || self.script_ended {
            if let Some(pacer) = self.pacer.as_mut() {
                pacer.restart(Instant::now());
            }
            return Step::Idle;
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
            let mut script = self
                .shared
                .script(self.market)
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            while pulled < pull_limit && events.len() < per_frame {
                let Some(event) = script.next_event() else {
                    self.script_ended = true;
                    break;
                };
                pulled += 1;
                if self.subscriptions.wants(&event) {
                    events.push(event);
                }
            }
        }
        if let Some(pacer) = self.pacer.as_mut() {
            pacer.consume(pulled as u64);
        }
        match PendingFrame::build(self.market, events) {
            Some(frame) => Step::Send(frame),
            None if self.script_ended => Step::Idle,
            None => Step::Yield,
        }
    }

    /// Sends one status frame and counts it.
    pub(super) async fn send_status(
        &self,
        session: &mut Session,
        status: &str,
        message: &str,
    ) -> Result<(), actix_ws::Closed> {
        session.text(status_frame(status, message)).await?;
        SimStats::add(&self.shared.stats.frames_sent, 1);
        Ok(())
    }
}

/// A close frame with code 1008 (policy violation).
pub(super) fn policy_close(description: &str) -> CloseReason {
    CloseReason {
        code: CloseCode::Policy,
        description: Some(description.to_owned()),
    }
}
