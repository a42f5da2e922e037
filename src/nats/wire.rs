//! The message format on the event subjects `tapewatch.events.<partition>`.
//!
//! One message per frame and partition: a JSON object
//! `{"feed":"options","frame":42,"events":[...]}`, where `frame` counts the
//! feed's frames in the ingest process from 1 and each event is the JSON
//! object tapewatch uses everywhere, tagged by `type`
//! (`{"type":"trade","symbol":"AAPL","class":"stock","price":..,"size":..,
//! "exchange":..,"conditions":[..],"time_ms":..,"sequence":..}`).

use serde::Serialize;
use tapewatch_actors::events::Event;

/// The events of one frame that belong to one partition.
#[derive(Debug, Serialize)]
pub struct WireBatch<'a> {
    /// The feed the frame came from.
    pub feed: &'a str,
    /// The frame's number in its feed, from 1.
    pub frame: u64,
    /// The frame's events of this partition, in wire order.
    pub events: Vec<&'a Event>,
}

/// The `Nats-Msg-Id` of a batch: `events:FEED:RUN:FRAME:PARTITION`, where
/// `RUN` tells ingest processes apart (their start time in nanoseconds), so a
/// republish of the same batch is a duplicate and another run's is not.
pub fn batch_msg_id(feed: &str, run: u64, frame: u64, partition: u32) -> String {
    format!("events:{feed}:{run}:{frame}:{partition}")
}
