//! A WebSocket server that says exactly the bytes a test gives it, for
//! hostile input no real server library would send (a frame header with an
//! impossible length). It listens on 127.0.0.1:0, answers each upgrade, then
//! runs the test's script on the raw socket, and counts connections.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What the server does with each upgraded connection.
pub type Script = fn(&mut TcpStream);

/// A running raw server; stops accepting when dropped.
pub struct RawServer {
    /// Where it listens.
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl RawServer {
    /// Starts a server running `script` on every connection. Connections
    /// stay open until the client closes them or the server is dropped.
    pub fn start(script: Script) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, halt) = (accepted.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut open = Vec::new();
            while !halt.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut socket, _)) => {
                        let _ = socket.set_nonblocking(false);
                        let _ = socket.set_read_timeout(Some(Duration::from_secs(5)));
                        if upgrade(&mut socket) {
                            count.fetch_add(1, Ordering::Relaxed);
                            script(&mut socket);
                            open.push(socket);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        RawServer {
            addr,
            accepted,
            stop,
        }
    }

    /// The feed URL.
    pub fn url(&self) -> String {
        format!("ws://{}/stocks", self.addr)
    }

    /// Connections upgraded so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads the upgrade request and answers 101; false if it was not one.
fn upgrade(socket: &mut TcpStream) -> bool {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") {
        match socket.read(&mut byte) {
            Ok(1) => request.push(byte[0]),
            _ => return false,
        }
    }
    let text = String::from_utf8_lossy(&request);
    let Some(key) = text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("sec-websocket-key")
            .then(|| value.trim().to_owned())
    }) else {
        return false;
    };
    let accept = actix_http::ws::hash_key(key.as_bytes());
    let accept = String::from_utf8_lossy(&accept);
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    socket.write_all(response.as_bytes()).is_ok()
}
