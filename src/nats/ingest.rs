//! How `tapewatch ingest` turns a decoded frame into JetStream messages: one
//! per partition that has events in it ([`super::wire`]).

use std::collections::BTreeMap;

use bytes::Bytes;
use tapewatch_actors::events::Event;
use tapewatch_actors::messages::EventBatch;

use super::partition::{events_subject, partition_of};
use super::publisher::{NatsPublisher, Record};
use super::wire::{batch_msg_id, WireBatch};

impl NatsPublisher {
    /// One record per partition that has events in the batch.
    pub(super) fn event_records(&mut self, batch: &EventBatch, partitions: u32) -> Vec<Record> {
        let frame = self.frames.entry(batch.feed.clone()).or_insert(0);
        *frame += 1;
        let frame = *frame;
        let mut groups: BTreeMap<u32, Vec<&Event>> = BTreeMap::new();
        for event in &batch.events {
            // Provider status messages concern the connection, not a symbol.
            if let Some(symbol) = event.symbol() {
                groups
                    .entry(partition_of(symbol, partitions))
                    .or_default()
                    .push(event);
            }
        }
        let mut records = Vec::with_capacity(groups.len());
        for (partition, events) in groups {
            let wire = WireBatch {
                feed: &batch.feed,
                frame,
                events,
            };
            let Ok(payload) = serde_json::to_vec(&wire) else {
                self.metrics.dropped.inc();
                continue;
            };
            records.push(Record {
                subject: events_subject(partition),
                label: "events",
                id: batch_msg_id(&batch.feed, self.run, frame, partition),
                payload: Bytes::from(payload),
            });
        }
        records
    }
}
