//! One client connection: its state and its run loop.
//!
//! Each upgraded connection runs as one local task that waits on four things
//! at once: client messages, the auth deadline, the simulator's shutdown
//! signal, and room in the socket for its next frame. Client messages are
//! therefore answered even while a slow reader holds up the data. A frame is
//! built from the market's shared script only when the previous one has gone
//! out, and it is kept until the socket takes it, so a frame is never lost or
//! reordered and the only queue is actix-ws's small bounded channel, which
//! pushes back on the generator when the client reads slowly. Client messages
//! are handled in [`super::client_messages`] (Alpaca's in
//! [`super::alpaca_messages`]), injected faults in
//! [`super::connection_faults`].

use std::future::poll_fn;
use std::sync::Arc;

use actix_ws::{AggregatedMessageStream, CloseCode, CloseReason, ProtocolError, Session};
use futures_util::Sink;
use tokio::time::{sleep_until, Instant};

use super::alpaca_feed::AlpacaSession;
use super::alpaca_messages::{error, AlpacaState, AUTH_TIMEOUT};
use super::alpaca_wire::Control;
use super::conn_limit::Slot;
use super::connection_data::{PendingFrame, Step};
use super::connection_faults::{FaultAction, Mode};
use super::connection_log::Ending;
use super::faults::Faults;
use super::feed::FeedShared;
use super::garbage::GarbageKind;
use super::instruments::Market;
use super::pacing::Pacer;
use super::sim_event::SimEvent;
use super::stats::SimStats;
use super::subscriptions::Subscriptions;
use super::wire::status_frame;

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
    /// The id of its record in the stats.
    pub(super) id: u64,
    /// The faults in force when it was accepted.
    pub(super) faults: Arc<Faults>,
    /// Whether the WebSocket faults apply to it.
    pub(super) faulty: bool,
    pub(super) authenticated: bool,
    pub(super) subscriptions: Subscriptions,
    pub(super) pacer: Option<Pacer>,
    pub(super) script_ended: bool,
    pub(super) pending: Option<PendingFrame>,
    /// A hostile frame to send before the next data frame.
    pub(super) pending_garbage: Option<GarbageKind>,
    /// Data frames handed to the socket.
    pub(super) data_frames: u64,
    /// Hostile frames sent: the position in the garbage rotation.
    pub(super) garbage_frames: u64,
    /// Whether it still sends data, only answers, or sends nothing.
    pub(super) mode: Mode,
    /// Its hold on the connection limit, released when it ends.
    pub(super) slot: Option<Slot>,
    /// Who ended it, once known.
    pub(super) ending: Option<Ending>,
    /// Its feed, encoding and channels when it speaks Alpaca's protocol;
    /// None for Polygon's, whose topics are in `subscriptions`.
    pub(super) alpaca: Option<AlpacaState>,
}

impl Connection {
    /// A fresh, unauthenticated connection to `market` with record `id`,
    /// speaking Alpaca's protocol when `alpaca` is given.
    pub(crate) fn new(
        shared: Arc<FeedShared>,
        market: Market,
        id: u64,
        (faults, faulty): (Arc<Faults>, bool),
        alpaca: Option<AlpacaSession>,
    ) -> Self {
        let pacer = shared
            .events_per_second
            .map(|rate| Pacer::new(rate, Instant::now()));
        Connection {
            shared,
            market,
            id,
            faults,
            faulty,
            authenticated: false,
            subscriptions: Subscriptions::new(market),
            pacer,
            script_ended: false,
            pending: None,
            pending_garbage: None,
            data_frames: 0,
            garbage_frames: 0,
            mode: Mode::Normal,
            slot: None,
            ending: None,
            alpaca: alpaca.map(AlpacaState::new),
        }
    }

    /// Serves the connection until it closes or the simulator stops.
    pub(crate) async fn run(mut self, mut session: Session, mut stream: AggregatedMessageStream) {
        let mut shutdown = self.shared.shutdown.clone();
        if *shutdown.borrow_and_update() {
            self.close(session, CloseCode::Away.into()).await;
            return;
        }
        let hello = match self.alpaca {
            Some(_) => {
                let connected = Control::success("connected");
                self.send_alpaca(&mut session, &connected).await
            }
            None => {
                let connected = "Connected Successfully";
                self.send_status(&mut session, "connected", connected).await
            }
        };
        if hello.is_err() {
            return;
        }
        let auth_deadline = Instant::now() + self.shared.auth_timeout;
        loop {
            match self.apply_due_fault() {
                FaultAction::None => {}
                FaultAction::Close(reason) => {
                    self.close(session, reason).await;
                    return;
                }
                // Returning drops the session and the stream without a Close
                // frame, which ends the response and the TCP connection once
                // the frames already queued are out.
                FaultAction::Drop => return,
            }
            let mut wait_until = None;
            let mut yield_first = false;
            // The next frame is built only once a hostile frame due before it
            // has gone, so that a fault due after it is not put off forever
            // when garbage follows every data frame.
            let idle = self.pending.is_none() && self.pending_garbage.is_none();
            if idle && self.mode == Mode::Normal {
                match self.next_step() {
                    Step::Send(frame) => self.pending = Some(frame),
                    Step::WaitUntil(at) => wait_until = Some(at),
                    Step::Yield => yield_first = true,
                    Step::Idle => {}
                }
            }
            let sending = self.pending.is_some() || self.pending_garbage.is_some();
            tokio::select! {
                biased;
                _ = shutdown.changed() => {
                    if self.mode == Mode::Deaf {
                        self.ending.get_or_insert(Ending::Server(None));
                    } else {
                        self.close(session, CloseCode::Away.into()).await;
                    }
                    return;
                }
                message = stream.recv() => match message {
                    Some(Ok(message)) => {
                        if let Flow::Stop = self.on_message(&mut session, message).await {
                            return;
                        }
                    }
                    Some(Err(error)) => {
                        match close_code_for(&error) {
                            // The client went away without a Close frame.
                            None => {}
                            Some(_) if self.mode == Mode::Deaf => {
                                self.ending.get_or_insert(Ending::Server(None));
                            }
                            Some(code) => self.close(session, code.into()).await,
                        }
                        return;
                    }
                    None => return,
                },
                _ = sleep_until(auth_deadline), if !self.authenticated => {
                    let _ = match self.alpaca {
                        Some(_) => self.send_alpaca(&mut session, &error(AUTH_TIMEOUT)).await,
                        None => {
                            let message = "No authentication request received.";
                            self.send_status(&mut session, "auth_timeout", message).await
                        }
                    };
                    self.close(session, policy_close("authentication timeout")).await;
                    return;
                }
                // This branch only waits for room in the socket's queue, so
                // when another branch wins, nothing is consumed and the frame
                // stays pending.
                room = poll_fn(|cx| std::pin::Pin::new(&mut session).poll_ready(cx)), if sending => {
                    if room.is_err() || self.start_send(&mut session).is_err() {
                        return;
                    }
                }
                _ = sleep_until(wait_until.unwrap_or(auth_deadline)), if wait_until.is_some() => {}
                _ = tokio::task::yield_now(), if yield_first => {}
            }
        }
    }

    /// Sends a Close frame, records it as the simulator's ending and ends
    /// the session.
    pub(super) async fn close(&mut self, session: Session, reason: CloseReason) {
        self.ending = Some(Ending::Server(Some(u16::from(reason.code))));
        let _ = session.close(Some(reason)).await;
    }

    /// True when some subscribed topic or channel can produce data.
    pub(super) fn wants_data(&self) -> bool {
        match &self.alpaca {
            Some(alpaca) => alpaca.subscriptions.wants_data(),
            None => self.subscriptions.wants_data(),
        }
    }

    /// True when `event` matches a subscribed topic or channel.
    pub(super) fn wants(&self, event: &SimEvent) -> bool {
        match &self.alpaca {
            Some(alpaca) => alpaca.subscriptions.wants(event),
            None => self.subscriptions.wants(event),
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

/// The code to close with after a bad client frame, or None when the read
/// failed because the connection itself broke (the client went away without a
/// Close frame), which leaves nobody to send a Close frame to.
fn close_code_for(error: &ProtocolError) -> Option<CloseCode> {
    match error {
        ProtocolError::Overflow => Some(CloseCode::Size),
        ProtocolError::Io(io) if io.kind() != std::io::ErrorKind::InvalidData => None,
        _ => Some(CloseCode::Protocol),
    }
}

/// A close frame with code 1008 (policy violation).
pub(super) fn policy_close(description: &str) -> CloseReason {
    CloseReason {
        code: CloseCode::Policy,
        description: Some(description.to_owned()),
    }
}
