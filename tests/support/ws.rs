//! WebSocket test clients: a JSON client (awc), and a raw client that
//! upgrades and then never reads, to play the stalled peer.

use std::net::SocketAddr;
use std::time::Duration;

use actix_codec::Framed;
use awc::ws::{Codec, Frame, Message};
use awc::BoxedSocket;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// What a WebSocket client read next.
#[derive(Debug)]
pub enum Got {
    /// A text frame, parsed.
    Json(Value),
    /// A close frame with its code.
    Close(Option<u16>),
    /// The connection ended without a close frame, or nothing came in time.
    Nothing,
}

/// A JSON WebSocket client.
pub struct WsClient {
    framed: Framed<BoxedSocket, Codec>,
}

impl WsClient {
    /// Connects, with a bearer token if given; the error is the HTTP status.
    pub async fn connect(url: &str, token: Option<&str>) -> Result<WsClient, u16> {
        let mut request = awc::Client::new().ws(url);
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        match request.connect().await {
            Ok((_, framed)) => Ok(WsClient { framed }),
            Err(awc::error::WsClientError::InvalidResponseStatus(s)) => Err(s.as_u16()),
            Err(e) => panic!("cannot connect to {url}: {e}"),
        }
    }

    /// Sends one text frame.
    pub async fn send_text(&mut self, text: &str) {
        self.framed
            .send(Message::Text(text.into()))
            .await
            .expect("send");
    }

    /// Sends a JSON request.
    pub async fn send(&mut self, request: Value) {
        self.send_text(&request.to_string()).await;
    }

    /// The next frame that matters, answering pings, within `limit`.
    pub async fn next(&mut self, limit: Duration) -> Got {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let frame = match tokio::time::timeout_at(deadline, self.framed.next()).await {
                Ok(Some(Ok(frame))) => frame,
                _ => return Got::Nothing,
            };
            match frame {
                Frame::Text(bytes) => {
                    let v = serde_json::from_slice(&bytes).expect("the server sends JSON");
                    return Got::Json(v);
                }
                Frame::Close(reason) => return Got::Close(reason.map(|r| u16::from(r.code))),
                Frame::Ping(p) => {
                    let _ = self.framed.send(Message::Pong(p)).await;
                }
                _ => {}
            }
        }
    }

    /// The next JSON message; panics on anything else.
    pub async fn json(&mut self) -> Value {
        match self.next(Duration::from_secs(20)).await {
            Got::Json(v) => v,
            other => panic!("expected JSON, got {other:?}"),
        }
    }

    /// Reads until the reply with `id` arrives, keeping pushes aside.
    pub async fn reply(&mut self, id: u64) -> Value {
        loop {
            let v = self.json().await;
            if v.get("id") == Some(&Value::from(id)) {
                return v;
            }
        }
    }
}

/// A raw client that upgrades to a WebSocket with a tiny receive buffer,
/// sends `requests` (as masked text frames) and then reads nothing.
pub async fn stalled_client(addr: SocketAddr, requests: &[Value]) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .set_recv_buffer_size(4096)
        .expect("small receive buffer");
    let mut stream = socket.connect(addr).await.expect("connects");
    let head = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("handshake");
    let mut answer = Vec::new();
    while !answer.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream
            .read_exact(&mut byte)
            .await
            .expect("handshake answer");
        answer.push(byte[0]);
    }
    assert!(
        answer.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    for r in requests {
        stream
            .write_all(&masked_text(&r.to_string()))
            .await
            .expect("request");
    }
    stream
}

/// A client-to-server text frame (clients must mask).
fn masked_text(text: &str) -> Vec<u8> {
    masked(0x1, text.as_bytes())
}

/// A client-to-server frame with `opcode` and `payload`, masked.
fn masked(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x12u8, 0x34, 0x56, 0x78];
    let len = payload.len();
    let mut frame = vec![0x80 | opcode];
    if len < 126 {
        frame.push(0x80 | len as u8);
    } else {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&(len as u16).to_be_bytes());
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// A server-to-client frame read off a raw stream.
#[derive(Debug)]
pub enum RawFrame {
    /// A text frame.
    Text(String),
    /// A close frame with its code.
    Close(Option<u16>),
    /// A ping, with its payload.
    Ping(Vec<u8>),
    /// Anything else (pong, binary).
    Other,
}

/// Takes one complete (unmasked, server-to-client) frame off the front of
/// `buf`, if it holds one.
fn take_frame(buf: &mut Vec<u8>) -> Option<RawFrame> {
    if buf.len() < 2 {
        return None;
    }
    let (opcode, len7) = (buf[0] & 0x0f, (buf[1] & 0x7f) as usize);
    let (header, len) = match len7 {
        126 if buf.len() >= 4 => (4, u16::from_be_bytes([buf[2], buf[3]]) as usize),
        127 if buf.len() >= 10 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            (10, u64::from_be_bytes(b) as usize)
        }
        126 | 127 => return None,
        n => (2, n),
    };
    if buf.len() < header + len {
        return None;
    }
    let payload = &buf[header..header + len];
    let frame = match opcode {
        0x1 => RawFrame::Text(String::from_utf8_lossy(payload).into_owned()),
        0x8 => RawFrame::Close((len >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]))),
        0x9 => RawFrame::Ping(payload.to_vec()),
        _ => RawFrame::Other,
    };
    buf.drain(..header + len);
    Some(frame)
}

/// Reads everything the server had queued until the connection ends; returns
/// the close code if a close frame came, `None` if it was dropped (EOF or
/// reset), or `Err` if it was still open after `limit`.
pub async fn read_until_closed(
    stream: &mut TcpStream,
    limit: Duration,
) -> Result<Option<u16>, String> {
    let deadline = tokio::time::Instant::now() + limit;
    let (mut buf, mut chunk) = (Vec::new(), vec![0u8; 64 * 1024]);
    loop {
        while let Some(frame) = take_frame(&mut buf) {
            if let RawFrame::Close(code) = frame {
                return Ok(code);
            }
        }
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Err(_) => return Err(format!("still open after {limit:?}")),
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(None),
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A raw stream read frame by frame, keeping a partial frame between reads.
pub struct RawReader {
    stream: TcpStream,
    buf: Vec<u8>,
    chunk: usize,
    pause: Duration,
}

impl RawReader {
    /// Reads `stream` from here on, as fast as it can.
    pub fn new(stream: TcpStream) -> Self {
        RawReader {
            stream,
            buf: Vec::new(),
            chunk: 64 * 1024,
            pause: Duration::ZERO,
        }
    }

    /// Reads at most `chunk` bytes at a time, resting `pause` after each:
    /// a reader slower than what it is sent.
    pub fn paced(mut self, chunk: usize, pause: Duration) -> Self {
        self.chunk = chunk;
        self.pause = pause;
        self
    }

    /// Reads frames for `period`, calling `each` with every text frame and
    /// answering pings as a WebSocket client does when it reads them; `Err`
    /// if the connection ended (with its close code, if any).
    pub async fn texts_for(
        &mut self,
        period: Duration,
        mut each: impl FnMut(String),
    ) -> Result<(), Option<u16>> {
        let deadline = tokio::time::Instant::now() + period;
        let mut chunk = vec![0u8; self.chunk];
        loop {
            while let Some(frame) = take_frame(&mut self.buf) {
                match frame {
                    RawFrame::Text(text) => each(text),
                    RawFrame::Close(code) => return Err(code),
                    RawFrame::Ping(payload) => {
                        if self.stream.write_all(&masked(0xA, &payload)).await.is_err() {
                            return Err(None);
                        }
                    }
                    RawFrame::Other => {}
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Err(_) => return Ok(()),
                Ok(Ok(0)) | Ok(Err(_)) => return Err(None),
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
            }
            if !self.pause.is_zero() {
                tokio::time::sleep(self.pause).await;
            }
        }
    }
}
