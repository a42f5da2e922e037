//! The other candidate for the generator: the same frames served by actix-ws
//! (actix-web, one worker, in an actix System of its own thread), measured
//! with the same bare client as [`super::probe::ceiling`], so the two servers
//! can be compared on this machine. Only the ceiling is measured with it.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use bytestring::ByteString;

use super::frames::FrameSet;
use super::probe;

/// Serves all of `set` with actix-ws to a bare client; returns events per
/// second as the client saw them.
pub async fn ceiling(set: &Arc<FrameSet>) -> Result<f64, String> {
    let frames = Arc::new(
        set.frames
            .iter()
            // Utf8Bytes and ByteString both wrap `Bytes`: no copy.
            .filter_map(|f| ByteString::try_from(bytes::Bytes::from(f.clone())).ok())
            .collect::<Vec<_>>(),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("bench-actix-ws".into())
        .spawn(move || {
            let system = actix_web::rt::System::new();
            system.block_on(async move {
                let data = web::Data::new(frames);
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .route("/stocks", web::get().to(feed))
                })
                .workers(1)
                .disable_signals()
                .shutdown_timeout(1)
                .bind(("127.0.0.1", 0));
                let server = match server {
                    Ok(s) => s,
                    Err(e) => return drop(tx.send(Err(e.to_string()))),
                };
                let addr = server.addrs().first().copied();
                let running = server.run();
                let _ = tx.send(
                    addr.map(|a| (a, running.handle()))
                        .ok_or("no address".into()),
                );
                let _ = running.await;
            });
        })
        .map_err(|e| e.to_string())?;
    let (addr, handle) = rx
        .recv_timeout(Duration::from_secs(10))
        .map_err(|_| "the actix-ws server did not start".to_owned())??;
    let client = probe::start_client(format!("ws://{addr}/stocks"), set.frames.len())?;
    let result = probe::wait(client).await;
    handle.stop(false).await;
    let (got, seconds) = result?;
    Ok(probe::rate(set, got, seconds))
}

fn status(status: &str, message: &str) -> String {
    serde_json::json!([{"ev": "status", "status": status, "message": message}]).to_string()
}

async fn feed(
    req: HttpRequest,
    body: web::Payload,
    frames: web::Data<Arc<Vec<ByteString>>>,
) -> actix_web::Result<HttpResponse> {
    let (response, mut session, mut stream) = actix_ws::handle(&req, body)?;
    let frames = frames.get_ref().clone();
    actix_web::rt::spawn(async move {
        let _ = session
            .text(status("connected", "Connected Successfully"))
            .await;
        // The bare client sends auth, then subscribe: answer each in turn.
        let mut answers = [
            status("auth_success", "authenticated"),
            status("success", "subscribed to: T.*"),
        ]
        .into_iter();
        while let Some(Ok(msg)) = stream.recv().await {
            if let actix_ws::Message::Text(_) = msg {
                match answers.next() {
                    Some(answer) => {
                        if session.text(answer).await.is_err() {
                            return;
                        }
                        if answers.len() == 0 {
                            break;
                        }
                    }
                    None => break,
                }
            }
        }
        for frame in frames.iter() {
            if session.text(frame.clone()).await.is_err() {
                return;
            }
        }
        let _ = session.close(None).await;
    });
    Ok(response)
}
