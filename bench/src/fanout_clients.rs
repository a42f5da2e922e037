//! The fan-out scenario's downstream clients: WebSocket clients of `/ws`
//! subscribed to `last:*`, each reading at its own pace (a number of
//! messages per second, or as fast as it can), all on one current-thread
//! runtime in a thread of their own, so their CPU is counted apart from the
//! service's.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// How long one read may wait before the client looks at the stop flag.
const POLL: Duration = Duration::from_millis(200);
/// How long connecting and subscribing may take.
const CONNECT_LIMIT: Duration = Duration::from_secs(10);

/// What one client saw.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Its pace, messages per second; `None` for as fast as it can.
    pub rate: Option<u32>,
    /// Pushes received.
    pub messages: u64,
    /// Of which snapshots.
    pub snapshots: u64,
    /// Why it ended before being told to stop: a close code or an error.
    pub ended: Option<String>,
}

/// The running clients.
pub struct Clients {
    stop: Arc<AtomicBool>,
    ready: Arc<AtomicUsize>,
    tid: Arc<AtomicU32>,
    thread: JoinHandle<Vec<Tally>>,
}

/// Starts one client per entry of `rates` against `url`.
pub fn start(url: String, rates: Vec<Option<u32>>) -> Result<Clients, String> {
    let stop = Arc::new(AtomicBool::new(false));
    let ready = Arc::new(AtomicUsize::new(0));
    let tid = Arc::new(AtomicU32::new(0));
    let (s, r, t) = (stop.clone(), ready.clone(), tid.clone());
    let thread = std::thread::Builder::new()
        .name("fanout-clients".into())
        .spawn(move || {
            // SAFETY: gettid has no preconditions.
            t.store(unsafe { libc::gettid() } as u32, Ordering::Relaxed);
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => return vec![failed(format!("runtime: {e}"))],
            };
            rt.block_on(async move {
                let tasks: Vec<_> = rates
                    .into_iter()
                    .map(|rate| tokio::spawn(client(url.clone(), rate, s.clone(), r.clone())))
                    .collect();
                let mut tallies = Vec::new();
                for task in tasks {
                    tallies.push(task.await.unwrap_or_else(|e| failed(e.to_string())));
                }
                tallies
            })
        })
        .map_err(|e| e.to_string())?;
    Ok(Clients {
        stop,
        ready,
        tid,
        thread,
    })
}

fn failed(why: String) -> Tally {
    Tally {
        ended: Some(why),
        ..Tally::default()
    }
}

impl Clients {
    /// Clients subscribed so far.
    pub fn ready(&self) -> usize {
        self.ready.load(Ordering::Relaxed)
    }

    /// The clients' thread id, for telling its CPU apart.
    pub fn thread_id(&self) -> u32 {
        self.tid.load(Ordering::Relaxed)
    }

    /// Stops every client and returns what each saw.
    pub async fn stop(self) -> Vec<Tally> {
        self.stop.store(true, Ordering::Relaxed);
        // Each client looks at the flag at least every POLL.
        while !self.thread.is_finished() {
            actix_rt::time::sleep(Duration::from_millis(20)).await;
        }
        self.thread
            .join()
            .unwrap_or_else(|_| vec![failed("the clients' thread panicked".into())])
    }
}

async fn client(
    url: String,
    rate: Option<u32>,
    stop: Arc<AtomicBool>,
    ready: Arc<AtomicUsize>,
) -> Tally {
    let mut tally = Tally {
        rate,
        ..Tally::default()
    };
    let connect = tokio_tungstenite::connect_async(url.as_str());
    let mut ws = match tokio::time::timeout(CONNECT_LIMIT, connect).await {
        Ok(Ok((ws, _))) => ws,
        Ok(Err(e)) => return failed(format!("connect: {e}")),
        Err(_) => return failed("connect timed out".into()),
    };
    let subscribe = r#"{"id":1,"action":"subscribe","topics":["last:*"]}"#;
    let sent = tokio::time::timeout(CONNECT_LIMIT, ws.send(Message::text(subscribe))).await;
    if !matches!(sent, Ok(Ok(()))) {
        return failed("subscribe not sent".into());
    }
    let gap = rate.map(|r| Duration::from_secs_f64(1.0 / f64::from(r.max(1))));
    let mut next_read = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if let Some(gap) = gap {
            tokio::time::sleep_until(next_read).await;
            next_read = next_read.max(Instant::now() - gap * 10) + gap;
        }
        let message = match tokio::time::timeout(POLL, ws.next()).await {
            Err(_) => continue,
            Ok(None) => {
                tally.ended = Some("connection ended".into());
                break;
            }
            Ok(Some(Err(e))) => {
                tally.ended = Some(e.to_string());
                break;
            }
            Ok(Some(Ok(m))) => m,
        };
        match message {
            Message::Text(text) if text.starts_with(r#"{"id":"#) => {
                ready.fetch_add(1, Ordering::Relaxed);
            }
            Message::Text(text) => {
                tally.messages += 1;
                if text.contains(r#""snapshot":true"#) {
                    tally.snapshots += 1;
                }
            }
            Message::Close(frame) => {
                let code = frame.map_or(0, |f| u16::from(f.code));
                tally.ended = Some(format!("closed by the server with {code}"));
                break;
            }
            _ => {}
        }
    }
    let _ = tokio::time::timeout(POLL, ws.close(None)).await;
    tally
}
