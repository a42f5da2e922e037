//! The tapewatch pipeline.
//!
//! Four actors exchange typed messages through bounded mailboxes:
//! [`ws_session::WsSession`] reads the provider's socket and hands raw frames to
//! [`message_handler::MessageHandler`], which decodes them into batches of
//! [`events::Event`]s for [`anomaly_detector::AnomalyDetector`]; each
//! alert ([`messages::Output::Alert`]) goes at once to the sinks and to
//! [`rest_fetcher::RestFetcher`], whose enrichment follows it. This crate knows
//! nothing of HTTP servers; the service shell wires the actors together.

pub mod alert_ring;
pub mod anomaly_detector;
pub mod calendar;
pub mod events;
pub mod guardian;
pub mod log_limit;
pub mod message_handler;
pub mod messages;
pub mod metrics;
pub mod option_ticker;
pub mod provider;
pub mod recorder;
pub mod recording;
pub mod rest_fetcher;
pub mod rules;
pub mod secret;
pub mod sink;
pub mod stage;
pub mod staleness;
pub mod subscription_store;
pub mod symbol_state;
pub mod ws_client;
pub mod ws_session;
