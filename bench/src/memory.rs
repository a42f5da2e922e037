//! Memory of this process, from `/proc/self/status`, and CPU time per thread,
//! from `/proc/self/task/*/stat`.
//!
//! Peak RSS is `VmHWM`; current RSS is `VmRSS`. Bytes per tracked symbol are
//! the growth of `VmRSS` while new symbols were fed and left idle, divided by
//! the growth of `tapewatch_symbols_tracked`. Per-thread CPU time shows, on a
//! machine with two cores, which thread (generator, hot arbiter, io arbiter)
//! took the time during a phase.

use std::collections::BTreeMap;

/// Resident memory of this process, bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rss {
    /// `VmRSS`: resident now.
    pub current: u64,
    /// `VmHWM`: the peak since start (or since [`reset_peak`]).
    pub peak: u64,
}

/// Reads `VmRSS` and `VmHWM`; zeros when `/proc` is unavailable.
pub fn rss() -> Rss {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    parse_status(&text)
}

/// Reads `VmRSS` and `VmHWM` of process `pid`; zeros when it is gone.
pub fn rss_of(pid: u32) -> Rss {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    parse_status(&text)
}

fn parse_status(text: &str) -> Rss {
    let kb = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
            .map_or(0, |n| n * 1024)
    };
    Rss {
        current: kb("VmRSS:"),
        peak: kb("VmHWM:"),
    }
}

/// Resets `VmHWM` to the current RSS (Linux `clear_refs` value 5), so each
/// scenario reports its own peak; false when the kernel refused.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// CPU time (user + system) of each thread, by thread id: its name and
/// clock ticks.
pub type ThreadTimes = BTreeMap<u32, (String, u64)>;

/// Reads every thread's CPU time.
pub fn thread_times() -> ThreadTimes {
    let mut out = ThreadTimes::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(tid) = entry.file_name().to_str().and_then(|t| t.parse().ok()) else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).ok();
        if let Some(found) = stat.as_deref().and_then(parse_stat) {
            out.insert(tid, found);
        }
    }
    out
}

/// Thread name and utime + stime from one `stat` line. The name is in
/// parentheses and may itself contain spaces or parentheses, so fields are
/// counted from the last `)`.
fn parse_stat(line: &str) -> Option<(String, u64)> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let name = line.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = line.get(close + 1..)?.split_whitespace().collect();
    // After the name: state is field 3 of the line, utime 14 and stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((name, utime + stime))
}

/// Clock ticks per second (`_SC_CLK_TCK`), 100 when unknown.
pub fn ticks_per_second() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(t).ok().filter(|&t| t > 0).unwrap_or(100)
}

/// Share of one core each thread used between two readings over `seconds`,
/// added up by label (`labels` names some thread ids; the others go by their
/// thread name), busiest first, leaving out those under 1%.
pub fn cpu_shares(
    before: &ThreadTimes,
    after: &ThreadTimes,
    seconds: f64,
    labels: &BTreeMap<u32, String>,
) -> Vec<(String, f64)> {
    let tick = ticks_per_second() as f64;
    let mut by_label: BTreeMap<String, u64> = BTreeMap::new();
    for (tid, (name, t)) in after {
        let used = t.saturating_sub(before.get(tid).map_or(0, |b| b.1));
        let label = labels.get(tid).cloned().unwrap_or_else(|| name.clone());
        *by_label.entry(label).or_default() += used;
    }
    let mut shares: Vec<(String, f64)> = by_label
        .into_iter()
        .map(|(label, used)| (label, used as f64 / tick / seconds.max(1e-9)))
        .filter(|(_, share)| *share >= 0.01)
        .collect();
    shares.sort_by(|a, b| b.1.total_cmp(&a.1));
    shares
}

/// Threads in `after` that were not in `before`, oldest (lowest id) first.
pub fn new_threads(before: &ThreadTimes, after: &ThreadTimes) -> Vec<(u32, String)> {
    after
        .iter()
        .filter(|(tid, _)| !before.contains_key(tid))
        .map(|(tid, (name, _))| (*tid, name.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_are_read_in_bytes() {
        let text = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n";
        assert_eq!(
            parse_status(text),
            Rss {
                current: 1 << 20,
                peak: 2 << 20
            }
        );
        assert_eq!(parse_status(""), Rss::default());
    }

    #[test]
    fn stat_lines_with_odd_names_parse() {
        let line =
            "42 (actix-rt|system:0|arbiter:1) S 1 1 1 0 -1 4194560 10 0 0 0 7 3 0 0 20 0 1 0";
        assert_eq!(
            parse_stat(line),
            Some(("actix-rt|system:0|arbiter:1".to_owned(), 10))
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn this_process_is_visible() {
        assert!(rss().current > 0);
        assert!(!thread_times().is_empty());
    }
}
