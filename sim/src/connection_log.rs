//! What [`SimStats`] keeps about each connection: when it opened and ended,
//! whether it was faulty, how many subscribe messages it sent and who ended
//! it, so that a test can line a pipeline's reconnects up with the
//! simulator's side of them.
//!
//! [`SimStats`]: super::SimStats

use std::time::Instant;

use super::instruments::Market;

/// One WebSocket connection as the simulator saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionRecord {
    /// Acceptance order across both markets, from 0.
    pub id: u64,
    /// The market it connected to.
    pub market: Market,
    /// Acceptance order within its market, from 0; the first
    /// [`Faults::faulty_connections`] of each market are faulty.
    ///
    /// [`Faults::faulty_connections`]: super::Faults::faulty_connections
    pub market_index: u64,
    /// Whether the WebSocket faults applied to it.
    pub faulty: bool,
    /// When the upgrade was accepted.
    pub opened_at: Instant,
    /// When the simulator stopped serving it; None while it is open.
    pub ended_at: Option<Instant>,
    /// `subscribe` actions it sent, valid or not.
    pub subscribe_messages: u64,
    /// Data frames it was sent (filled in when it ends).
    pub data_frames: u64,
    /// Who ended it; None while it is open.
    pub ending: Option<Ending>,
}

/// Who ended a connection, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The client sent a Close frame with this code (1005 when the frame
    /// carried no code), or went away without one (None).
    Client(Option<u16>),
    /// The simulator sent a Close frame with this code, or dropped the
    /// connection without one (None).
    Server(Option<u16>),
}

impl ConnectionRecord {
    /// A fresh record of a connection accepted now.
    pub(crate) fn opened(id: u64, market: Market, market_index: u64, faulty: bool) -> Self {
        ConnectionRecord {
            id,
            market,
            market_index,
            faulty,
            opened_at: Instant::now(),
            ended_at: None,
            subscribe_messages: 0,
            data_frames: 0,
            ending: None,
        }
    }
}
