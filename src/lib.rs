//! tapewatch: watches live market-data WebSocket feeds, finds anomalies in the
//! trade stream as they happen, enriches each over REST without stalling the
//! stream, and writes the results out.
//!
//! The pipeline actors live in the `tapewatch-actors` crate; this crate is the
//! service shell: configuration, the wiring of the topology ([`app`]), the
//! command line, the HTTP API and downstream WebSocket endpoint ([`http`]),
//! and the `demo` that runs the simulator (crate `tapewatch-sim`) with the pipeline.

pub mod app;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod demo;
pub mod http;
pub mod logging;
pub mod nats;
pub mod pipeline;
pub mod pretty;
pub mod progress;
pub mod replay;
pub mod service;
pub mod sinks;
pub mod tls;

pub use tapewatch_actors as actors;
