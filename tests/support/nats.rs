//! A real `nats-server` with JetStream for a test: started on a port the OS
//! picks on loopback, with a temporary store, and killed when dropped.
//!
//! The binary comes from `TAPEWATCH_NATS_SERVER` (set by `scripts/test`, which
//! installs it) or from the project's `.venv`; without either the test fails
//! with a message saying how to get it, rather than passing without a server.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running nats-server.
pub struct NatsServer {
    child: Child,
    /// `nats://127.0.0.1:PORT`.
    pub url: String,
    _store: tempfile::TempDir,
}

fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("TAPEWATCH_NATS_SERVER") {
        return PathBuf::from(path);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/nats-server");
    assert!(
        venv.exists(),
        "no nats-server: run scripts/test, or scripts/nats-server and set \
         TAPEWATCH_NATS_SERVER to the path it prints"
    );
    venv
}

impl NatsServer {
    /// Starts a server and waits until it accepts clients.
    pub fn start() -> NatsServer {
        let store = tempfile::tempdir().expect("temporary store");
        let mut child = Command::new(binary())
            .args(["-js", "-a", "127.0.0.1", "-p", "-1", "-sd"])
            .arg(store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nats-server starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel();
        // The server logs to stderr; the thread keeps draining it so the
        // server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let marker = "Listening for client connections on ";
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let url = loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(at) = line.find(marker) {
                        break format!("nats://{}", &line[at + marker.len()..]);
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("nats-server did not start listening within 15 s");
                }
            }
        };
        NatsServer {
            child,
            url,
            _store: store,
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
