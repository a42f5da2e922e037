//! The injected faults of one connection ([`super::Faults`]): when they fire,
//! what each one does to the connection, the garbage rotation, the
//! `max_connections` rejection, and the record of how the connection ended.

use actix_ws::{CloseCode, CloseReason, Session};

use super::connection::{policy_close, Connection, Flow};
use super::connection_log::Ending;
use super::faults::{Fault, MAX_CONNECTIONS_MESSAGE};
use super::garbage::GarbageKind;
use super::stats::SimStats;

/// What a connection still sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Everything: data, garbage, replies and pongs.
    Normal,
    /// Replies and pongs, but no data or garbage.
    Muted,
    /// Nothing at all.
    Deaf,
}

/// What the run loop must do about a fault.
pub(crate) enum FaultAction {
    /// Nothing, or a change of mode that the loop simply follows.
    None,
    /// Send this Close frame and end.
    Close(CloseReason),
    /// End without a Close frame.
    Drop,
}

impl Connection {
    /// Fires the fault that is due, if any, and says what the loop must do.
    ///
    /// A fault waits for the frames already built: a pending data frame (its
    /// events are taken from the script) and a pending garbage frame (due
    /// after the same data frame as the fault) both go out first. With a
    /// threshold of zero it waits for the client to authenticate and
    /// subscribe to data, so that zero means "before the first data frame".
    pub(super) fn apply_due_fault(&mut self) -> FaultAction {
        if !self.faulty
            || self.mode != Mode::Normal
            || self.pending.is_some()
            || self.pending_garbage.is_some()
            || (self.data_frames == 0 && !(self.authenticated && self.wants_data()))
        {
            return FaultAction::None;
        }
        let Some(fault) = self.faults.due(self.data_frames) else {
            return FaultAction::None;
        };
        SimStats::add(&self.shared.stats.faults_triggered, 1);
        tracing::debug!(connection = self.id, ?fault, "simulator fault fires");
        match fault {
            Fault::Drop => {
                self.ending = Some(Ending::Server(None));
                FaultAction::Drop
            }
            Fault::Close(code) => FaultAction::Close(CloseReason {
                code: CloseCode::from(code),
                description: None,
            }),
            Fault::Deaf => {
                self.mode = Mode::Deaf;
                FaultAction::None
            }
            Fault::Mute => {
                self.mode = Mode::Muted;
                FaultAction::None
            }
        }
    }

    /// Queues the next hostile frame when one is due after the data frame
    /// just sent.
    pub(super) fn queue_garbage(&mut self) {
        if self.faulty && self.mode == Mode::Normal && self.faults.garbage_after(self.data_frames) {
            self.pending_garbage = Some(GarbageKind::nth(self.garbage_frames));
        }
    }

    /// Whether the connection limit turns away a connection that has just
    /// authenticated with `key`; otherwise takes its slot in the limit.
    pub(super) fn over_connection_limit(&mut self, key: Option<&str>) -> bool {
        let faults = &self.faults;
        if faults.reject_all_with_max_connections {
            return true;
        }
        if !faults.max_connections {
            return false;
        }
        if let Some(old) = self.slot.take() {
            self.shared.limit.release(old);
        }
        self.slot = self.shared.limit.acquire(self.market, key, self.id);
        self.slot.is_none()
    }

    /// Sends `max_connections`, then Close 1008, as Massive does to a
    /// connection over the limit (Alpaca's 406 on an Alpaca connection).
    pub(super) async fn reject_over_limit(&mut self, session: &mut Session) -> Flow {
        if self.alpaca.is_some() {
            return self.reject_alpaca_over_limit(session).await;
        }
        let sent = self
            .send_status(session, "max_connections", MAX_CONNECTIONS_MESSAGE)
            .await;
        if sent.is_ok() {
            SimStats::add(&self.shared.stats.max_connections_sent, 1);
        }
        let reason = policy_close("Maximum number of websocket connections exceeded.");
        self.close(session.clone(), reason).await;
        Flow::Stop
    }
}

impl Drop for Connection {
    /// Releases the connection limit and records how the connection ended.
    /// Every way the simulator ends a connection records itself first, so an
    /// unrecorded end is the client going away without a Close frame.
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.shared.limit.release(slot);
        }
        let ending = self.ending.unwrap_or(Ending::Client(None));
        let stats = &self.shared.stats;
        stats.end_connection(self.id, self.data_frames, ending);
    }
}
