//! A small WebSocket client on awc for the simulator's tests, which sees the
//! raw frames: it does not answer pings or echo Close frames by itself, and it
//! tells a Close frame apart from the end of the TCP stream.

use std::time::{Duration, Instant};

use awc::ws::{Frame, Message};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use serde_json::Value;

use super::{start, SimConfig, SimHandle};

/// How long a test waits for a frame it expects.
pub(crate) const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The shape of an awc WebSocket connection, boxed so tests need not name it.
pub(crate) trait WsStream:
    Stream<Item = Result<Frame, actix_ws::ProtocolError>>
    + Sink<Message, Error = actix_ws::ProtocolError>
    + Unpin
{
}

impl<T> WsStream for T where
    T: Stream<Item = Result<Frame, actix_ws::ProtocolError>>
        + Sink<Message, Error = actix_ws::ProtocolError>
        + Unpin
{
}

/// The client's frame size limit unless a test sets another.
const DEFAULT_MAX_FRAME: usize = 4 << 20;

/// What one read from the socket brought.
#[derive(Debug)]
pub(crate) enum Next {
    /// A frame, control frames included.
    Frame(Frame),
    /// The stream ended without a Close frame (EOF).
    End,
    /// The stream failed, e.g. a reset or a frame above the client's limit.
    Error(actix_ws::ProtocolError),
    /// Nothing arrived in time.
    Timeout,
}

/// Waits until `check` holds, polling the simulator's stats, or fails the
/// test after [`READ_TIMEOUT`]. For server-side state there is no frame to
/// await, so polling with a deadline is the only way to wait for it.
pub(crate) async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + READ_TIMEOUT;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Starts a simulator or fails the test.
pub(crate) async fn start_sim(config: SimConfig) -> SimHandle {
    start(config).await.expect("the simulator starts")
}

/// A client connection to one simulated feed.
pub(crate) struct WsClient {
    framed: Box<dyn WsStream>,
}

impl WsClient {
    /// Connects with a default awc client.
    pub async fn connect(url: &str) -> Self {
        Self::connect_with(&awc::Client::new(), url).await
    }

    /// Connects with the given awc client (e.g. one that trusts a test CA).
    pub async fn connect_with(client: &awc::Client, url: &str) -> Self {
        Self::connect_limited(client, url, DEFAULT_MAX_FRAME).await
    }

    /// Connects with a frame size limit of `max_frame` bytes.
    pub async fn connect_limited(client: &awc::Client, url: &str, max_frame: usize) -> Self {
        let (_, framed) = client
            .ws(url)
            .max_frame_size(max_frame)
            .connect()
            .await
            .expect("the websocket connects");
        WsClient {
            framed: Box::new(framed),
        }
    }

    /// Connects with this `Content-Type` on the upgrade, as Alpaca clients
    /// choose JSON or msgpack.
    pub async fn connect_as(url: &str, content_type: &str) -> Self {
        let (_, framed) = awc::Client::new()
            .ws(url)
            .max_frame_size(DEFAULT_MAX_FRAME)
            .set_header(awc::http::header::CONTENT_TYPE, content_type)
            .connect()
            .await
            .expect("the websocket connects");
        WsClient {
            framed: Box::new(framed),
        }
    }

    /// The next binary frame; fails the test on anything else.
    pub async fn binary(&mut self) -> Vec<u8> {
        match self.frame_within(READ_TIMEOUT).await {
            Some(Frame::Binary(bytes)) => bytes.to_vec(),
            other => panic!("expected a binary frame, got {other:?}"),
        }
    }

    /// Sends one text message.
    pub async fn send(&mut self, text: &str) {
        self.framed
            .send(Message::Text(text.to_owned().into()))
            .await
            .expect("the message is sent");
    }

    /// Sends a raw WebSocket message (ping, close, binary).
    pub async fn send_message(&mut self, message: Message) {
        self.framed
            .send(message)
            .await
            .expect("the message is sent");
    }

    /// The next thing the socket brings within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Next {
        match tokio::time::timeout(wait, self.framed.next()).await {
            Ok(Some(Ok(frame))) => Next::Frame(frame),
            Ok(Some(Err(error))) => Next::Error(error),
            Ok(None) => Next::End,
            Err(_) => Next::Timeout,
        }
    }

    /// The next frame within `wait`, or None on timeout or end of stream.
    pub async fn frame_within(&mut self, wait: Duration) -> Option<Frame> {
        match tokio::time::timeout(wait, self.framed.next()).await {
            Ok(Some(Ok(frame))) => Some(frame),
            _ => None,
        }
    }

    /// The next text frame; fails the test on anything else.
    pub async fn text(&mut self) -> String {
        match self.frame_within(READ_TIMEOUT).await {
            Some(Frame::Text(bytes)) => String::from_utf8(bytes.to_vec()).expect("UTF-8 text"),
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    /// The next text frame, parsed as JSON.
    pub async fn json(&mut self) -> Value {
        let text = self.text().await;
        serde_json::from_str(&text).expect("frames are JSON")
    }

    /// The next frame must be a close frame; returns its code.
    pub async fn close_code(&mut self) -> Option<u16> {
        match self.frame_within(READ_TIMEOUT).await {
            Some(Frame::Close(reason)) => reason.map(|r| u16::from(r.code)),
            other => panic!("expected a close frame, got {other:?}"),
        }
    }

    /// Runs the handshake: hello, auth, and one acknowledgement per topic.
    pub async fn login(&mut self, key: &str, topics: &str) {
        let hello = self.json().await;
        assert_eq!(hello[0]["status"], "connected");
        self.send(&serde_json::json!({"action": "auth", "params": key}).to_string())
            .await;
        assert_eq!(self.json().await[0]["status"], "auth_success");
        self.subscribe(topics).await;
    }

    /// Subscribes and reads one acknowledgement per topic.
    pub async fn subscribe(&mut self, topics: &str) {
        self.send(&serde_json::json!({"action": "subscribe", "params": topics}).to_string())
            .await;
        for _ in topics.split(',').filter(|t| !t.trim().is_empty()) {
            let ack = self.json().await;
            assert_eq!(ack[0]["status"], "success", "{ack}");
        }
    }

    /// The events of the next frame, which must be a data frame.
    pub async fn events(&mut self) -> Vec<Value> {
        let frame = self.json().await;
        let events = frame.as_array().cloned().expect("frames are arrays");
        assert!(
            events.iter().all(|e| e["ev"] != "status"),
            "expected data, got {frame}"
        );
        events
    }

    /// Collects events until at least `count` have arrived.
    pub async fn collect(&mut self, count: usize) -> Vec<Value> {
        let mut all = Vec::with_capacity(count);
        while all.len() < count {
            all.extend(self.events().await);
        }
        all
    }
}
