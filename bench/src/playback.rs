//! How a [`Play`] is written to a client: unpaced (everything, as fast as the
//! socket takes it) or paced (what is due by the end of each millisecond, so
//! N events/s arrive in 1 ms bursts). Frames are queued in tungstenite's write
//! buffer and written in 64 KiB batches; a client that accepts nothing for
//! [`STALL_LIMIT`] is disconnected as a slow consumer, as Polygon does when its
//! buffer for a client fills.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::generator::{Ending, GeneratorStats, Play, PlayReport, Ws};

/// How long a client may accept no data before it is disconnected.
pub const STALL_LIMIT: Duration = Duration::from_secs(1);
/// Bytes queued before a write to the socket.
const FLUSH_BYTES: usize = 64 << 10;

/// Writes what is queued, recording the wait; fails after [`STALL_LIMIT`].
async fn flush(ws: &mut Ws, max_stall: &mut Duration) -> Result<(), (String, Ending)> {
    let since = Instant::now();
    let flushed = tokio::time::timeout(STALL_LIMIT, ws.flush()).await;
    *max_stall = (*max_stall).max(since.elapsed());
    match flushed {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err((format!("client gone: {e}"), Ending::Client)),
        Err(_) => Err(("slow consumer".to_owned(), Ending::Server)),
    }
}

/// Sends the play's frames; the ending is set when the connection is over.
pub(super) async fn run_play(
    ws: &mut Ws,
    play: &Play,
    stats: &GeneratorStats,
) -> (PlayReport, Option<Ending>) {
    let set = &play.set;
    let total = set.events();
    let started = Instant::now();
    let mut report = PlayReport {
        started,
        finished: started,
        frames: 0,
        events: 0,
        max_stall: Duration::ZERO,
        failure: None,
    };
    let range = play.frames.start..play.frames.end.min(set.frames.len());
    let epf = set.events_per_frame as u64;
    let mut next = range.start;
    let mut queued = 0usize;
    let mut ending = None;
    while next < range.end {
        // How far to send now: everything (unpaced), or what is due by the
        // end of the current millisecond (paced).
        let until = match play.pace {
            None => range.end,
            Some(rate) => {
                let ms = started.elapsed().as_millis() as u64 + 1;
                let due = (rate.saturating_mul(ms) / 1000).div_ceil(epf) as usize;
                (range.start + due).min(range.end)
            }
        };
        while next < until {
            let frame = set.frames[next].clone();
            queued += frame.len();
            if let Err(e) = ws.feed(Message::Text(frame)).await {
                report.failure = Some(format!("client gone: {e}"));
                ending = Some(Ending::Client);
                break;
            }
            report.frames += 1;
            report.events += set.events_in(next, total);
            next += 1;
            if queued >= FLUSH_BYTES {
                queued = 0;
                if let Err((why, end)) = flush(ws, &mut report.max_stall).await {
                    report.failure = Some(why);
                    ending = Some(end);
                    break;
                }
            }
        }
        if ending.is_none() {
            queued = 0;
            if let Err((why, end)) = flush(ws, &mut report.max_stall).await {
                report.failure = Some(why);
                ending = Some(end);
            }
        }
        if ending.is_some() {
            break;
        }
        if let (Some(_), true) = (play.pace, next < range.end) {
            let ms = started.elapsed().as_millis() as u64 + 1;
            let at = started + Duration::from_millis(ms);
            tokio::time::sleep_until(at.into()).await;
        }
    }
    if let Some(Ending::Server) = ending {
        stats.slow_disconnects.fetch_add(1, Ordering::Relaxed);
        let close = CloseFrame {
            code: CloseCode::Policy,
            reason: "slow consumer".into(),
        };
        let _ = tokio::time::timeout(STALL_LIMIT, ws.close(Some(close))).await;
    }
    report.finished = Instant::now();
    (report, ending)
}
