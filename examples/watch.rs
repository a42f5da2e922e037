//! Prints tapewatch alerts as they happen: connects to the downstream
//! WebSocket, subscribes to `alerts`, and prints every alert and enrichment.
//!
//! ```sh
//! cargo run --release -- demo                # in one terminal
//! cargo run --example watch                  # in another (ws://127.0.0.1:8787/ws)
//! cargo run --example watch -- ws://127.0.0.1:9000/ws
//! ```
//!
//! Set `TAPEWATCH_TOKEN` when the server requires a token.

use anyhow::{anyhow, Context as _};
use awc::ws::{Frame, Message};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};

#[actix_rt::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:8787/ws".to_owned());
    let mut request = awc::Client::new().ws(&url);
    if let Some(token) = std::env::var("TAPEWATCH_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
    {
        request = request.bearer_auth(token.trim());
    }
    let (_, mut socket) = request
        .connect()
        .await
        .map_err(|e| anyhow!("cannot connect to {url}: {e}"))?;
    let subscribe = json!({"id": 1, "action": "subscribe", "topics": ["alerts"]});
    socket
        .send(Message::Text(subscribe.to_string().into()))
        .await
        .context("sending the subscription")?;
    eprintln!("watching {url} for alerts; Ctrl-C to stop");
    while let Some(frame) = socket.next().await {
        match frame.context("reading from the server")? {
            Frame::Text(bytes) => show(&serde_json::from_slice(&bytes)?),
            Frame::Ping(payload) => socket.send(Message::Pong(payload)).await?,
            Frame::Close(reason) => {
                eprintln!("the server closed the connection: {reason:?}");
                break;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Prints one message: an alert, an enrichment, or a failed request.
fn show(message: &Value) {
    let data = &message["data"];
    match data["type"].as_str() {
        Some("alert") => println!(
            "ALERT  #{:<5} {:<13} {:<24} observed {} vs baseline {:.1} (score {:.1})",
            data["id"].as_u64().unwrap_or(0),
            data["kind"].as_str().unwrap_or("?"),
            data["symbol"].as_str().unwrap_or("?"),
            data["observed"],
            data["baseline"].as_f64().unwrap_or(0.0),
            data["score"].as_f64().unwrap_or(0.0),
        ),
        Some("enrichment") => println!(
            "  ENRICH #{:<5} {} {}",
            data["alert_id"].as_u64().unwrap_or(0),
            data["status"].as_str().unwrap_or("?"),
            data["symbol"].as_str().unwrap_or("?"),
        ),
        _ if message["ok"] == false => {
            eprintln!("request {} failed: {}", message["id"], message["error"])
        }
        _ => {}
    }
}
