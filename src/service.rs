//! `run(config, shutdown)`: the service's entry point, used by the CLI and tests.
//!
//! It wires the HTTP API in: the WebSocket hub is created first and subscribed
//! to the pipeline through the builder, then the server starts with the
//! pipeline's handle, and it stops before the pipeline does.

use std::future::Future;
use std::time::Duration;

use tapewatch_actors::secret::Credentials;

use crate::app::{self, StartError};
use crate::config::Config;
use crate::http;
use crate::progress::Progress;

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stopped on request (signal or duration).
    Stopped,
    /// A feed failed in a way retrying cannot fix (e.g. the key was rejected).
    Failed(String),
}

/// How long in-flight REST calls may finish after a stop request.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Runs the pipeline until `shutdown` completes or a feed fails terminally,
/// printing a progress line to stderr every `pipeline.progress_interval_s`.
pub async fn run(
    config: Config,
    credentials: Credentials,
    shutdown: impl Future<Output = ()>,
) -> Result<Outcome, StartError> {
    run_announcing(config, credentials, shutdown, |_| {}).await
}

/// [`run`], calling `listening` with the HTTP API's base URL
/// (`http://127.0.0.1:PORT`) once it serves, so a caller can tell where the
/// dashboard is even when the port was chosen by the OS.
pub async fn run_announcing(
    config: Config,
    credentials: Credentials,
    shutdown: impl Future<Output = ()>,
    listening: impl FnOnce(&str),
) -> Result<Outcome, StartError> {
    let every = Duration::from_secs(config.pipeline.progress_interval_s.max(1));
    let show_progress = config.pipeline.progress_interval_s > 0;
    let http_config = config.http.clone();
    let hub_mailbox = config.http.hub_queue;
    let mut builder = app::builder(config, credentials);
    if http_config.enabled {
        // Bounded like any subscriber: the pipeline sheds to the hub, never
        // waits; and supervised like the pipeline's own actors.
        builder = builder.with_hub(hub_mailbox);
    }
    let mut pipeline = builder.start()?;
    let server = match pipeline.hub() {
        Some(hub) => match http::serve(http_config.clone(), pipeline.handle(), hub).await {
            Ok(server) => {
                let url = server.url();
                let ws = url.replacen("http://", "ws://", 1);
                eprintln!("tapewatch: HTTP API on {url} (dashboard {url}/, WebSocket {ws}/ws)");
                listening(&url);
                Some(server)
            }
            Err(e) => {
                pipeline.shutdown(SHUTDOWN_GRACE).await;
                return Err(StartError::Config(format!(
                    "cannot serve HTTP on {}: {e}",
                    http_config.bind
                )));
            }
        },
        None => None,
    };
    let mut progress = Progress::default();
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tokio::pin!(shutdown);
    let outcome = loop {
        tokio::select! {
            () = &mut shutdown => break Outcome::Stopped,
            failure = pipeline.failed() => {
                break Outcome::Failed(format!("{}: {}", failure.component, failure.reason))
            }
            _ = ticker.tick(), if show_progress => {
                let sessions = pipeline.sessions().await;
                eprintln!("{}", progress.line(&pipeline.metrics, &sessions));
                tracing::info!(target: "tapewatch::queues", "{}", crate::progress::queue_report(&pipeline.metrics));
            }
        }
    };
    let sessions = pipeline.sessions().await;
    let last = progress.line(&pipeline.metrics, &sessions);
    if let Some(server) = server {
        server.stop().await;
    }
    pipeline.shutdown(SHUTDOWN_GRACE).await;
    if show_progress {
        eprintln!("{last}");
    }
    Ok(outcome)
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn signals() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Completes on a signal or after `duration`, whichever comes first.
pub async fn signals_or(duration: Option<Duration>) {
    match duration {
        Some(d) => {
            tokio::select! {
                () = signals() => {}
                () = tokio::time::sleep(d) => {}
            }
        }
        None => signals().await,
    }
}
