//! A small WebSocket feed for the generic provider's tests: it speaks
//! whatever protocol a test gives it as two functions (what to send when a
//! client connects, what to answer to each client message), records every
//! client message and upgrade URL, and lets the test push frames to every
//! open connection. It listens on 127.0.0.1, port 0.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use actix_ws::{Message, Session};

/// Frames to send when connection `n` (1 = the first) opens.
pub type OnOpen = Arc<dyn Fn(usize) -> Vec<String> + Send + Sync>;
/// Frames to answer message `text` of connection `n` with.
pub type OnMessage = Arc<dyn Fn(usize, &str) -> Vec<String> + Send + Sync>;

#[derive(Default)]
struct Shared {
    connections: AtomicUsize,
    received: Mutex<Vec<(usize, String)>>,
    upgrades: Mutex<Vec<String>>,
    sessions: Mutex<Vec<Session>>,
}

/// A running feed.
pub struct FeedServer {
    addr: std::net::SocketAddr,
    shared: Arc<Shared>,
    handle: ServerHandle,
}

impl FeedServer {
    /// Starts a feed speaking the protocol of `on_open` and `on_message`.
    pub fn start(on_open: OnOpen, on_message: OnMessage) -> FeedServer {
        let shared = Arc::new(Shared::default());
        let state = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::Data::new((on_open.clone(), on_message.clone())))
                .route("/ws", web::get().to(upgrade))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .expect("bind a loopback port");
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        FeedServer {
            addr,
            shared,
            handle,
        }
    }

    /// `ws://127.0.0.1:PORT/ws`.
    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Every client message so far, with its connection number.
    pub fn received(&self) -> Vec<(usize, String)> {
        self.shared
            .received
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// The path and query of every upgrade request.
    pub fn upgrades(&self) -> Vec<String> {
        self.shared
            .upgrades
            .lock()
            .map(|u| u.clone())
            .unwrap_or_default()
    }

    /// Sends `text` to every open connection.
    pub async fn push(&self, text: &str) {
        self.push_frame(Message::Text(text.to_owned().into())).await;
    }

    /// Sends `bytes` as a binary frame to every open connection.
    pub async fn push_binary(&self, bytes: &'static [u8]) {
        self.push_frame(Message::Binary(bytes.into())).await;
    }

    async fn push_frame(&self, frame: Message) {
        let sessions = (self.shared.sessions.lock())
            .map(|s| s.clone())
            .unwrap_or_default();
        for mut session in sessions {
            let _ = match &frame {
                Message::Binary(b) => session.binary(b.clone()).await,
                Message::Text(t) => session.text(t.clone()).await,
                _ => Ok(()),
            };
        }
    }

    /// Stops accepting and closes the connections.
    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    shared: web::Data<Shared>,
    protocol: web::Data<(OnOpen, OnMessage)>,
) -> actix_web::Result<HttpResponse> {
    let (response, mut session, mut stream) = actix_ws::handle(&req, body)?;
    let n = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
    if let Ok(mut u) = shared.upgrades.lock() {
        u.push(req.uri().to_string());
    }
    if let Ok(mut s) = shared.sessions.lock() {
        s.push(session.clone());
    }
    let (on_open, on_message) = (protocol.0.clone(), protocol.1.clone());
    let shared = shared.into_inner();
    actix_web::rt::spawn(async move {
        for frame in on_open(n) {
            if session.text(frame).await.is_err() {
                return;
            }
        }
        while let Some(Ok(message)) = stream.recv().await {
            match message {
                Message::Text(text) => {
                    if let Ok(mut r) = shared.received.lock() {
                        r.push((n, text.to_string()));
                    }
                    for frame in on_message(n, &text) {
                        let _ = session.text(frame).await;
                    }
                }
                Message::Ping(bytes) => {
                    let _ = session.pong(&bytes).await;
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
    });
    Ok(response)
}
