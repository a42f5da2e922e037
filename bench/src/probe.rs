//! The generator's ceiling: a bare WebSocket client that only counts frames.
//!
//! It does the Polygon handshake, then reads frames without parsing them, on a
//! current-thread runtime in its own thread. Its rate is what the generator
//! and loopback TCP alone allow on this machine, the upper bound for any
//! client of the same generator.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;

use super::frames::FrameSet;
use super::generator::{Generator, Play};

/// How long any one read may take.
const READ_LIMIT: Duration = Duration::from_secs(10);

/// Plays all of `set` unpaced to a bare client; returns events per second as
/// the client saw them (first to last data frame).
pub async fn ceiling(set: &Arc<FrameSet>) -> Result<f64, String> {
    let generator = Generator::start().map_err(|e| format!("generator: {e}"))?;
    let frames = set.frames.len();
    let client = start_client(generator.url(), frames)?;
    let (done, report) = oneshot::channel();
    generator
        .play(Play {
            set: set.clone(),
            frames: 0..frames,
            pace: None,
            close_after: true,
            done,
        })
        .await?;
    let _ = report.await;
    let (got, seconds) = wait(client).await?;
    Ok(rate(set, got, seconds))
}

/// Events per second for `got` of the set's frames in `seconds`.
pub fn rate(set: &FrameSet, got: usize, seconds: f64) -> f64 {
    let events = set.events() as f64 * got as f64 / set.frames.len().max(1) as f64;
    events / seconds.max(1e-9)
}

/// What a client thread reports: frames received and seconds taken.
pub type ClientResult = std::sync::mpsc::Receiver<Result<(usize, f64), String>>;

/// Starts the bare client in a thread of its own.
pub fn start_client(url: String, frames: usize) -> Result<ClientResult, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("bench-probe".into())
        .spawn(move || {
            let result = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|rt| rt.block_on(count(&url, frames)));
            let _ = tx.send(result);
        })
        .map_err(|e| e.to_string())?;
    Ok(rx)
}

/// Waits for the client thread, which ends by itself: every read has a time
/// limit.
pub async fn wait(rx: ClientResult) -> Result<(usize, f64), String> {
    loop {
        match rx.try_recv() {
            Ok(r) => return r,
            Err(std::sync::mpsc::TryRecvError::Empty) => {
                actix_rt::time::sleep(Duration::from_millis(10)).await
            }
            Err(_) => return Err("the probe thread died".to_owned()),
        }
    }
}

async fn next_text(
    ws: &mut (impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin),
) -> Result<Option<Message>, String> {
    match tokio::time::timeout(READ_LIMIT, ws.next()).await {
        Err(_) => Err("read timed out".to_owned()),
        Ok(None) => Ok(None),
        Ok(Some(Err(e))) => Err(e.to_string()),
        Ok(Some(Ok(m))) => Ok(Some(m)),
    }
}

/// Connects, subscribes, and counts data frames until `frames` arrived or the
/// server closed; returns (frames, seconds from first to last).
async fn count(url: &str, frames: usize) -> Result<(usize, f64), String> {
    let connect = tokio_tungstenite::connect_async(url);
    let (mut ws, _) = tokio::time::timeout(READ_LIMIT, connect)
        .await
        .map_err(|_| "connect timed out")?
        .map_err(|e| e.to_string())?;
    next_text(&mut ws).await?;
    for action in [
        r#"{"action":"auth","params":"bench"}"#,
        r#"{"action":"subscribe","params":"T.*"}"#,
    ] {
        tokio::time::timeout(READ_LIMIT, ws.send(Message::text(action.to_owned())))
            .await
            .map_err(|_| "send timed out")?
            .map_err(|e| e.to_string())?;
        next_text(&mut ws).await?;
    }
    let (mut got, mut first, mut last) = (0usize, None, Instant::now());
    while got < frames {
        match next_text(&mut ws).await? {
            Some(Message::Text(_)) => {
                last = Instant::now();
                first.get_or_insert(last);
                got += 1;
            }
            Some(Message::Close(_)) | None => break,
            Some(_) => {}
        }
    }
    let seconds = first.map_or(0.0, |f| last.duration_since(f).as_secs_f64());
    Ok((got, seconds))
}
