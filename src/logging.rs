//! Where log lines go and how they look.
//!
//! Logs go to stderr, so stdout carries only records. They are coloured only
//! when stderr is a terminal: escape codes in a file or a log shipper are
//! noise. `--log-format json` writes one JSON object per line for shippers.
//! Without a filter from the user, actix-server's start-up chatter (one line
//! per worker) is kept below `warn`, so the screen shows the product.

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// The filter used when the user gave none.
pub const DEFAULT_FILTER: &str = "info,actix_server=warn";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Readable lines, coloured on a terminal.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The filter for `user`'s directive, or [`DEFAULT_FILTER`] when there is none
/// or it does not parse (with the reason, to be reported).
pub fn filter(user: Option<&str>) -> (EnvFilter, Option<String>) {
    match user.map(str::trim).filter(|u| !u.is_empty()) {
        None => (EnvFilter::new(DEFAULT_FILTER), None),
        Some(directive) => match EnvFilter::try_new(directive) {
            Ok(f) => (f, None),
            Err(e) => (
                EnvFilter::new(DEFAULT_FILTER),
                Some(format!("log filter `{directive}` ignored: {e}")),
            ),
        },
    }
}

/// A subscriber writing to `writer` in `format`, with colours only if `ansi`.
pub fn subscriber<W>(
    filter: EnvFilter,
    format: LogFormat,
    ansi: bool,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.with_ansi(ansi).finish()),
        LogFormat::Json => Box::new(builder.json().with_ansi(false).finish()),
    }
}

/// Installs the process's subscriber: stderr, coloured only on a terminal.
pub fn init(user_filter: Option<&str>, format: LogFormat) {
    use std::io::IsTerminal;
    let (filter, problem) = filter(user_filter);
    let ansi = std::io::stderr().is_terminal();
    let _ =
        tracing::subscriber::set_global_default(subscriber(filter, format, ansi, std::io::stderr));
    if let Some(problem) = problem {
        tracing::warn!("{problem}");
    }
}

#[cfg(test)]
mod tests;
