use std::sync::{Arc, Mutex};

use super::*;

/// A writer into shared memory.
#[derive(Clone, Default)]
struct Memory(Arc<Mutex<Vec<u8>>>);

impl Memory {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().map(|b| b.clone()).unwrap_or_default()).into_owned()
    }
}

impl std::io::Write for Memory {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Memory {
    type Writer = Memory;
    fn make_writer(&'a self) -> Memory {
        self.clone()
    }
}

fn logged(user: Option<&str>, format: LogFormat, ansi: bool) -> String {
    let memory = Memory::default();
    let (filter, _) = filter(user);
    let sub = subscriber(filter, format, ansi, memory.clone());
    tracing::subscriber::with_default(sub, || {
        tracing::info!(target: "actix_server::builder", "starting 1 workers");
        tracing::warn!(target: "actix_server::server", "server trouble");
        tracing::info!(target: "tapewatch::service", feed = "stocks", "connected");
        tracing::debug!(target: "tapewatch::service", "detail");
    });
    memory.text()
}

#[test]
fn filters_decide_what_is_shown() {
    // (user filter, shown, hidden)
    let cases: [(Option<&str>, &[&str], &[&str]); 4] = [
        (
            None,
            &["server trouble", "connected"],
            &["starting 1 workers", "detail"],
        ),
        (
            Some(""),
            &["server trouble", "connected"],
            &["starting 1 workers"],
        ),
        (
            Some("debug"),
            &["starting 1 workers", "connected", "detail"],
            &[],
        ),
        // A filter that does not parse falls back to the default.
        (
            Some("[[["),
            &["connected"],
            &["starting 1 workers", "detail"],
        ),
    ];
    for (user, shown, hidden) in cases {
        let text = logged(user, LogFormat::Text, false);
        for s in shown {
            assert!(text.contains(s), "{user:?}: `{s}` missing from {text}");
        }
        for h in hidden {
            assert!(!text.contains(h), "{user:?}: `{h}` shown in {text}");
        }
    }
    assert!(filter(Some("[[[")).1.is_some_and(|p| p.contains("[[[")));
}

#[test]
fn colours_only_when_asked_and_json_is_one_object_per_line() {
    assert!(!logged(None, LogFormat::Text, false).contains('\u{1b}'));
    assert!(logged(None, LogFormat::Text, true).contains('\u{1b}'));
    let json = logged(None, LogFormat::Json, true);
    assert!(!json.contains('\u{1b}'));
    let lines: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(lines.len(), 2, "{json}");
    assert_eq!(lines[1]["fields"]["message"], "connected");
    assert_eq!(lines[1]["fields"]["feed"], "stocks");
    assert_eq!(lines[1]["level"], "INFO");
}
