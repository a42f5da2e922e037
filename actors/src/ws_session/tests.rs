//! WsSession against servers that misbehave at the byte level.

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use super::raw_server::RawServer;
use super::{ConnectionConfig, SessionDeps, SessionShared, WsSession};
use crate::messages::RawFrame;
use crate::metrics::Metrics;
use crate::provider::polygon::Polygon;
use crate::provider::IssueKind;
use crate::secret::{ApiKey, Credentials};
use crate::stage::{Fanout, StageGauge, StageSender};

/// Takes frames and forgets them.
struct Discard;

impl Actor for Discard {
    type Context = Context<Self>;
}

impl Handler<RawFrame> for Discard {
    type Result = ();
    fn handle(&mut self, _: RawFrame, _: &mut Context<Self>) {}
}

/// Counts fatal reports.
#[derive(Default)]
struct Fatals(Arc<std::sync::atomic::AtomicUsize>);

impl Actor for Fatals {
    type Context = Context<Self>;
}

impl Handler<crate::messages::Fatal> for Fatals {
    type Result = ();
    fn handle(&mut self, _: crate::messages::Fatal, _: &mut Context<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A session for `url` with a 1 MiB frame limit and quick reconnects.
fn session(url: String, metrics: &Metrics) -> Addr<WsSession> {
    session_reporting(url, metrics, None)
}

fn session_reporting(
    url: String,
    metrics: &Metrics,
    on_fatal: Option<Recipient<crate::messages::Fatal>>,
) -> Addr<WsSession> {
    let frames = StageSender::new(
        Discard.start().recipient(),
        StageGauge::new(metrics, "handler"),
    );
    let connection = ConnectionConfig {
        max_frame_bytes: 1 << 20,
        backoff_min_ms: 10,
        backoff_max_ms: 40,
        ping_after_ms: 200,
        pong_timeout_ms: 200,
        ..ConnectionConfig::default()
    };
    let tls = crate::ws_client::tls_config(&[]).expect("the built-in roots load");
    WsSession::new(SessionDeps {
        feed: "stocks".into(),
        url,
        shared: SessionShared::new(["T.*".to_owned()]),
        provider: Arc::new(Polygon),
        credentials: Credentials::key(ApiKey::new("k")),
        connection,
        tls: Arc::new(tls),
        frames,
        outputs: Fanout::default(),
        on_fatal,
        store: None,
        metrics: metrics.clone(),
        recorder: None,
    })
    .start()
}

/// Waits until `cond` holds, checking every 10 ms, for at most `limit`.
async fn eventually(limit: Duration, cond: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while !cond() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

/// A text frame header announcing 2^63 bytes: a length RFC 6455 forbids,
/// which actix-http reports without consuming it.
fn impossible_length(socket: &mut TcpStream) {
    let _ = socket.write_all(&[0x81, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0]);
}

/// A text frame header announcing 2 MiB, over the session's 1 MiB limit,
/// whose payload never comes.
fn over_the_limit(socket: &mut TcpStream) {
    let _ = socket.write_all(&[0x81, 0x7f, 0, 0, 0, 0, 0, 0x20, 0, 0]);
}

/// Asserts that each connection that sent `script` was given up after one
/// too-large error, and that the session reconnected.
async fn each_oversize_frame_costs_one_connection(script: super::raw_server::Script) {
    let server = RawServer::start(script);
    let metrics = Metrics::new();
    let addr = session(server.url(), &metrics);
    let too_large = metrics.decode_errors(IssueKind::TooLarge).clone();
    assert!(
        eventually(Duration::from_secs(10), || server.accepted() >= 3).await,
        "the session did not reconnect: {} connection(s), {} too-large errors",
        server.accepted(),
        too_large.get()
    );
    // The newest connection's header may not have been read yet.
    let (errors, connections) = (too_large.get(), server.accepted() as u64);
    assert!(
        errors <= connections && errors + 1 >= connections,
        "{errors} too-large errors over {connections} connections"
    );
    assert!(metrics.reconnects.get() >= 2);
    addr.do_send(super::Shutdown);
}

#[actix::test]
async fn an_impossible_frame_length_ends_the_connection_instead_of_spinning() {
    each_oversize_frame_costs_one_connection(impossible_length).await;
}

#[actix::test]
async fn a_frame_over_the_limit_ends_the_connection_at_its_header() {
    each_oversize_frame_costs_one_connection(over_the_limit).await;
}

/// An unmasked text frame from the server (payload under 126 bytes).
fn text_frame(text: &str) -> Vec<u8> {
    let mut frame = vec![0x81, text.len() as u8];
    frame.extend_from_slice(text.as_bytes());
    frame
}

/// Polygon's greeting, then its auth timeout before any auth is read.
fn greet_then_time_out(socket: &mut TcpStream) {
    let hello = r#"[{"ev":"status","status":"connected","message":"Connected Successfully"}]"#;
    let late = r#"[{"ev":"status","status":"auth_timeout","message":"No authentication request received."}]"#;
    let _ = socket.write_all(&text_frame(hello));
    let _ = socket.write_all(&text_frame(late));
}

#[actix::test]
async fn an_auth_timeout_reconnects_with_backoff_and_never_stops_the_feed() {
    let server = RawServer::start(greet_then_time_out);
    let metrics = Metrics::new();
    let fatals = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let recipient = Fatals(fatals.clone()).start().recipient();
    let addr = session_reporting(server.url(), &metrics, Some(recipient));
    assert!(eventually(Duration::from_secs(10), || server.accepted() >= 3).await);
    let snapshot = addr
        .send(super::GetSessionState)
        .await
        .expect("session alive");
    assert_ne!(snapshot.state, super::SessionState::Stopped);
    assert!(metrics.notice("auth_timeout").get() >= 2);
    assert_eq!(fatals.load(std::sync::atomic::Ordering::Relaxed), 0);
    addr.do_send(super::Shutdown);
}
