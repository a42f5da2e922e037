//! What the hub and one client actor share: why the client is being
//! disconnected (counted once), and a way to drop its TCP connection when the
//! actor itself cannot run.
//!
//! actix-web serves a WebSocket actor by polling it only while the
//! connection's write buffer has room (actix-web #2441). A peer that stops
//! reading therefore freezes its actor: it handles no message, runs no timer
//! and cannot close itself; and even once the actor has stopped, actix-web
//! waits without limit to flush what it had written. The hub notices such a
//! client because its bounded mailbox fills; it marks the link, and when a
//! short grace has passed after the eviction (or after the actor stopped),
//! shuts the socket down through a duplicate of its handle taken when the
//! connection was accepted, if actix-web still holds the connection. That
//! wakes the frozen connection with an error, and actix-web drops it with its
//! actor.

use std::any::Any;
use std::net::Shutdown;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;
use actix_web_actors::ws::{CloseCode, CloseReason};
use prometheus::IntGauge;
use tapewatch_actors::metrics::Metrics;

use super::conflate::Conflator;

/// Why a client is disconnected; the label of `tapewatch_ws_disconnects_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Its send queue was full: it does not read fast enough.
    Slow,
    /// It kept sending requests beyond its rate limit.
    Flood,
    /// It closed the connection, or the connection ended.
    Closed,
    /// It broke the WebSocket protocol.
    Error,
    /// It stopped answering pings.
    Timeout,
    /// The server is stopping.
    Shutdown,
}

impl Ending {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Ending::Slow => "slow",
            Ending::Flood => "flood",
            Ending::Closed => "closed",
            Ending::Error => "error",
            Ending::Timeout => "timeout",
            Ending::Shutdown => "shutdown",
        }
    }

    /// The close frame sent to the client, when one is due.
    pub fn close_reason(self) -> Option<CloseReason> {
        let (code, text) = match self {
            Ending::Slow => (CloseCode::Policy, "too slow: send queue full"),
            Ending::Flood => (CloseCode::Policy, "too many requests"),
            Ending::Error => (CloseCode::Protocol, "protocol error"),
            Ending::Timeout => (CloseCode::Away, "no pong"),
            Ending::Shutdown => (CloseCode::Away, "server stopping"),
            Ending::Closed => return None,
        };
        Some(CloseReason {
            code,
            description: Some(text.to_owned()),
        })
    }
}

/// A duplicate of one connection's socket handle, shared by the connection's
/// data ([`ConnSocket`]) and, for a WebSocket, its [`Link`].
#[derive(Clone)]
pub struct SocketHandle(Arc<Mutex<Option<socket2::Socket>>>);

impl SocketHandle {
    fn take(&self) -> Option<socket2::Socket> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Caps the kernel's send buffer of the connection. What a peer has not
    /// read yet waits there, out of reach of conflation; a small buffer
    /// keeps a slow reader's state values fresh. Failing leaves the
    /// system's default, which only makes a slow reader's values staler.
    pub fn set_send_buffer(&self, bytes: usize) {
        if let Some(socket) = self.0.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            let _ = socket.set_send_buffer_size(bytes);
        }
    }
}

/// Put in every plain TCP connection's data by [`on_connect`]. actix-web
/// drops a connection's data when it is done with the connection; the
/// duplicate is closed then, so a connection that ends normally closes
/// normally, and only one still open can be [forced](Link::force_close).
pub struct ConnSocket(SocketHandle);

impl ConnSocket {
    /// The shared handle, for the connection's [`Link`].
    pub fn handle(&self) -> SocketHandle {
        self.0.clone()
    }
}

impl Drop for ConnSocket {
    fn drop(&mut self) {
        drop(self.0.take());
    }
}

/// `HttpServer::on_connect` hook: keeps a duplicate of every plain TCP
/// connection's handle, so a frozen WebSocket client can be dropped.
pub fn on_connect(conn: &dyn Any, data: &mut Extensions) {
    if let Some(tcp) = conn.downcast_ref::<TcpStream>() {
        if let Ok(dup) = socket2::SockRef::from(tcp).try_clone() {
            data.insert(ConnSocket(SocketHandle(Arc::new(Mutex::new(Some(dup))))));
        }
    }
}

/// State shared by the hub and one client actor.
pub struct Link {
    /// The client's id.
    pub id: u64,
    ending: OnceLock<Ending>,
    socket: Option<SocketHandle>,
    metrics: Metrics,
    /// The client's state-topic queue, filled by the hub and drained by the
    /// client actor.
    state: Mutex<Conflator>,
    /// Event-topic updates not delivered to this client, which asked to be
    /// told (`"on_lag":"notice"`) rather than disconnected.
    pub lagged: AtomicU64,
}

impl Link {
    /// A link for client `id`, able to drop its connection through `socket`.
    pub fn new(id: u64, socket: Option<SocketHandle>, metrics: Metrics) -> Self {
        Link {
            id,
            ending: OnceLock::new(),
            socket,
            metrics,
            state: Mutex::new(Conflator::default()),
            lagged: AtomicU64::new(0),
        }
    }

    /// The client's state-topic queue. A panic while it was held cannot
    /// leave it inconsistent in a way that matters, so poisoning is ignored.
    pub fn state(&self) -> std::sync::MutexGuard<'_, Conflator> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records why the client goes; the first reason wins and is counted in
    /// `tapewatch_ws_disconnects_total`. Returns whether this call decided it.
    pub fn end(&self, why: Ending) -> bool {
        let first = self.ending.set(why).is_ok();
        if first {
            self.metrics.ws_disconnects(why.label()).inc();
        }
        first
    }

    /// Why the client is going, once decided.
    pub fn ending(&self) -> Option<Ending> {
        self.ending.get().copied()
    }

    /// Drops the connection if actix-web still holds it: the socket is shut
    /// down with a zero linger, so unsent data is discarded and the peer gets
    /// a reset. A connection that already ended is left alone.
    pub fn force_close(&self) {
        if let Some(socket) = self.socket.as_ref().and_then(SocketHandle::take) {
            let _ = socket.set_linger(Some(Duration::ZERO));
            let _ = socket.shutdown(Shutdown::Both);
            tracing::info!(
                client = self.id,
                "downstream connection still open; dropped"
            );
        }
    }
}

/// The count of connected WebSocket clients, capped at `max_clients`.
#[derive(Clone)]
pub struct ClientSlots {
    max: usize,
    used: Arc<AtomicUsize>,
    gauge: IntGauge,
}

/// One taken slot; dropping it frees the slot.
pub struct ClientPermit {
    used: Arc<AtomicUsize>,
    gauge: IntGauge,
}

impl ClientSlots {
    /// `max` slots, reported in `tapewatch_ws_clients`.
    pub fn new(max: usize, metrics: &Metrics) -> Self {
        ClientSlots {
            max,
            used: Arc::new(AtomicUsize::new(0)),
            gauge: metrics.ws_clients.clone(),
        }
    }

    /// A slot, or `None` when every slot is taken.
    pub fn acquire(&self) -> Option<ClientPermit> {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()?;
        self.gauge.inc();
        Some(ClientPermit {
            used: self.used.clone(),
            gauge: self.gauge.clone(),
        })
    }
}

impl Drop for ClientPermit {
    fn drop(&mut self) {
        self.used.fetch_sub(1, Ordering::AcqRel);
        self.gauge.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_ending_is_counted_once() {
        let metrics = Metrics::new();
        let link = Link::new(1, None, metrics.clone());
        assert!(link.end(Ending::Slow));
        assert!(!link.end(Ending::Closed));
        assert_eq!(link.ending(), Some(Ending::Slow));
        assert_eq!(metrics.ws_disconnects("slow").get(), 1);
        assert_eq!(metrics.ws_disconnects("closed").get(), 0);
        link.force_close(); // no socket: nothing to do, no panic
    }

    #[test]
    fn slots_are_capped_and_freed() {
        let metrics = Metrics::new();
        let slots = ClientSlots::new(2, &metrics);
        let a = slots.acquire().expect("first");
        let _b = slots.acquire().expect("second");
        assert!(slots.acquire().is_none());
        assert_eq!(metrics.ws_clients.get(), 2);
        drop(a);
        let c = slots.acquire();
        assert!(c.is_some());
        assert_eq!(metrics.ws_clients.get(), 2);
        drop(c);
        assert_eq!(metrics.ws_clients.get(), 1);
    }
}
