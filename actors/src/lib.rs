//! The tapewatch pipeline.
//!
//! Four actors exchange typed messages through bounded mailboxes:
//! [`ws_session::WsSession`] reads the provider's socket and hands raw frames to
//! [`message_handler::MessageHandler`], which decodes them into batches of
//! [`events::Event`]s for [`anomaly_detector::AnomalyDetector`]; each
//! [`messages::Alert`] goes at once to the sinks and to
//! [`rest_fetcher::RestFetcher`], whose enrichment follows it. This crate knows
//! nothing of HTTP servers; the service shell wires the actors together.

pub mod events;
pub mod log_limit;
pub mod message_handler;
pub mod messages;
pub mod metrics;
pub mod stage;
pub mod ws_client;
pub mod ws_session;
pub mod provider;
pub mod secret;
pub mod sink;
