//! Builds the configured line sinks (stdout and the JSONL alerts file).

use std::path::Path;

use tapewatch_actors::sink::{self, Formatter};

use crate::config::{OutputConfig, StdoutFormat};
use crate::pretty;

/// What one sink writes to, and how.
pub struct SinkSpec {
    /// Name used in logs and actor names.
    pub name: &'static str,
    /// Opens the writer (again, after a restart).
    pub open: Box<dyn Fn() -> std::io::Result<Box<dyn std::io::Write + Send>> + Send + Sync>,
    /// Line format.
    pub format: Formatter,
}

/// The sinks of an output config; the file is opened once here so that a bad
/// path fails at start-up, not at the first alert.
pub fn specs(output: &OutputConfig) -> std::io::Result<Vec<SinkSpec>> {
    let mut specs = Vec::new();
    let stdout_format: Option<Formatter> = match output.stdout {
        StdoutFormat::Json => Some(sink::json_line),
        StdoutFormat::Pretty => Some(pretty::line),
        StdoutFormat::Off => None,
    };
    if let Some(format) = stdout_format {
        specs.push(SinkSpec {
            name: "stdout",
            open: Box::new(|| Ok(Box::new(std::io::stdout()))),
            format,
        });
    }
    if let Some(path) = &output.alerts_file {
        open_append(path)?;
        let path = path.clone();
        specs.push(SinkSpec {
            name: "alerts_file",
            open: Box::new(move || Ok(Box::new(open_append(&path)?))),
            format: sink::json_line,
        });
    }
    Ok(specs)
}

fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}
