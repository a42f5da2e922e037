//! `tapewatch sim`: serves the simulator until Ctrl-C.

use std::net::SocketAddr;

use clap::Args;
use tapewatch_actors::secret::ApiKey;

use super::{ScriptConfig, SimConfig};

/// Flags of `tapewatch sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address to serve the feeds (`/stocks`, `/options`) and REST (`/v3/...`) on.
    #[arg(long, default_value = "127.0.0.1:8765")]
    bind: SocketAddr,
    /// Accept only this API key (any key is accepted without it).
    #[arg(long)]
    key: Option<String>,
    /// Seed of the deterministic script.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Events per second on each connection (as fast as possible without it).
    #[arg(long)]
    rate: Option<u64>,
    /// Largest number of events per frame.
    #[arg(long, default_value_t = 10)]
    events_per_frame: usize,
    /// Trades per feed before the script ends (endless without it).
    #[arg(long)]
    total: Option<u64>,
}

/// Serves until SIGINT/SIGTERM; returns the exit status.
pub async fn serve(args: SimArgs) -> u8 {
    let config = SimConfig {
        bind: args.bind,
        key: args.key.map(ApiKey::new),
        events_per_second: args.rate,
        events_per_frame: args.events_per_frame.max(1),
        script: ScriptConfig {
            seed: args.seed,
            total_events: args.total,
            ..ScriptConfig::default()
        },
        ..SimConfig::default()
    };
    match super::start(config).await {
        Ok(handle) => {
            eprintln!(
                "tapewatch sim: feeds at {} and {}, REST at {}",
                handle.ws_url("stocks"),
                handle.ws_url("options"),
                handle.rest_url()
            );
            crate::service::signals().await;
            handle.stop().await;
            0
        }
        Err(e) => {
            eprintln!("tapewatch sim: cannot serve on {}: {e}", args.bind);
            1
        }
    }
}
