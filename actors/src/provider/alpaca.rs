//! The Alpaca market-data v2 stream protocol, JSON mode.
//!
//! `[{"T":"success","msg":"connected"}]` → `{"action":"auth","key":…,"secret":…}`
//! → `success`/`authenticated` or an `error` with a code →
//! `{"action":"subscribe","trades":["AAPL"],"quotes":["AMD"]}` → one
//! `subscription` message with the complete current set → data frames (JSON
//! arrays keyed by `T`, decoded by [`alpaca_decode`]).
//!
//! # Topics
//!
//! A topic is `channel:SYMBOL` with Alpaca's channel names: `trades`, `quotes`,
//! `bars`, `dailyBars`, `updatedBars`, `statuses`, `lulds`, `imbalances`,
//! `orderbooks`; the symbol `*` means every symbol (`quotes:*`,
//! `trades:BTC/USD`). The Polygon spellings people already use are accepted
//! too and mean the same: `T.AAPL` is `trades:AAPL`, `Q.AAPL` is
//! `quotes:AAPL`, `AM.AAPL` is `bars:AAPL`. Symbols are upper-cased, as Alpaca
//! writes them.
//!
//! # Acknowledgements
//!
//! The session matches acknowledgements to topics as it spelled them, but
//! Alpaca acknowledges by echoing its whole subscription set in its own
//! spelling, and never per topic. So the provider remembers the spelling of
//! every topic it was asked to subscribe (only where it differs from
//! `channel:SYMBOL`) and of every topic it was asked to drop, and translates:
//! each (channel, symbol) in the set becomes `Subscribed` in the spelling asked
//! for, and each dropped topic missing from the set becomes `Unsubscribed`.
//! The memory is shared by the feeds that share this provider; only a topic
//! spelled two ways by two feeds at once would be acknowledged in the wrong
//! spelling (the session then counts an unexpected acknowledgement).
//!
//! # Refusals
//!
//! Alpaca answers every `subscribe` and `unsubscribe` message with exactly
//! one reply, in order: the `subscription` echo or an `error` (410 for a
//! channel the feed lacks, 405 over the symbol limit, ...), which names no
//! topic. So the provider also keeps the topics of each message still
//! waiting for its reply, per connection (cleared when a connection
//! authenticates), and reads an error that answers a message as the refusal
//! of that message's topics.
//!
//! `corrections` and `cancelErrors`, which Alpaca adds on its own for every
//! `trades` symbol, are not reported: nobody asked for them, so the session
//! would count them as unexpected on every subscribe.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

pub use super::alpaca_topic::AlpacaTopic;
use super::alpaca_topic::{action, parse_all};
use super::topic::{Stream, TopicKey, ANY_CLASS};
use super::{alpaca_control, alpaca_decode, Control, ControlEvent, DecodeIssue, Provider};
use crate::events::{Event, Symbol};
use crate::secret::Credentials;

/// Default host of Alpaca's market-data streams.
pub const DEFAULT_STREAM_HOST: &str = "wss://stream.data.alpaca.markets";

/// Channels the server adds by itself for every `trades` symbol.
const AUTO_CHANNELS: &[&str] = &["corrections", "cancelErrors"];

/// The Alpaca provider.
#[derive(Debug, Default)]
pub struct Alpaca {
    spellings: Mutex<Spellings>,
}

/// Messages waiting for their reply kept at most; a server that stops
/// answering cannot grow the list.
const MAX_UNANSWERED: usize = 64;

/// How topics were spelled when asked for, keyed by `channel:SYMBOL`, and
/// the topics of each message still waiting for its reply, oldest first.
#[derive(Debug, Default)]
struct Spellings {
    subscribed: HashMap<String, String>,
    leaving: HashMap<String, String>,
    unanswered: VecDeque<Vec<String>>,
}

impl Spellings {
    fn sent(&mut self, topics: &[(&str, AlpacaTopic)]) {
        if self.unanswered.len() == MAX_UNANSWERED {
            self.unanswered.pop_front();
        }
        let asked = topics.iter().map(|(t, _)| (*t).to_owned()).collect();
        self.unanswered.push_back(asked);
    }
}

impl Alpaca {
    fn spellings(&self) -> MutexGuard<'_, Spellings> {
        // Every edit leaves the maps consistent, so a panic elsewhere while the
        // lock was held cannot have left them half-written.
        self.spellings.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn subscription(&self, message: &alpaca_control::ControlMessage<'_>) -> Vec<ControlEvent> {
        let mut spellings = self.spellings();
        spellings.unanswered.pop_front();
        let mut events = Vec::new();
        let mut current = HashSet::new();
        for (channel, symbols) in &message.lists {
            if AUTO_CHANNELS.contains(&channel.as_ref()) {
                continue;
            }
            for symbol in symbols {
                let canonical = format!("{channel}:{symbol}");
                let spelled = spellings.subscribed.get(&canonical).cloned();
                events.push(ControlEvent::Subscribed(
                    spelled.unwrap_or_else(|| canonical.clone()),
                ));
                current.insert(canonical);
            }
        }
        let gone: Vec<String> = (spellings.leaving.keys())
            .filter(|c| !current.contains(*c))
            .cloned()
            .collect();
        for canonical in gone {
            if let Some(spelled) = spellings.leaving.remove(&canonical) {
                events.push(ControlEvent::Unsubscribed(spelled));
            }
        }
        events
    }
}

impl Alpaca {
    /// An error, read as the refusal of the oldest unanswered message when
    /// its code answers messages.
    fn error(&self, code: Option<i64>, msg: &str) -> ControlEvent {
        let event = alpaca_control::error(code, msg);
        let answers = code.is_some_and(|c| alpaca_control::ANSWERS_ACTION.contains(&c));
        match event {
            ControlEvent::Error(message) if answers => {
                match self.spellings().unanswered.pop_front() {
                    Some(topics) => ControlEvent::Rejected { topics, message },
                    None => ControlEvent::Error(message),
                }
            }
            other => other,
        }
    }
}

impl Provider for Alpaca {
    fn name(&self) -> &'static str {
        "alpaca"
    }

    fn default_url(&self, market: &str) -> Option<String> {
        match market {
            "iex" | "sip" | "delayed_sip" | "test" => {
                Some(format!("{DEFAULT_STREAM_HOST}/v2/{market}"))
            }
            // Crypto speaks the same JSON protocol; options need msgpack.
            "crypto" => Some(format!("{DEFAULT_STREAM_HOST}/v1beta3/crypto/us")),
            _ => None,
        }
    }

    fn topic_of(&self, topic: &str) -> Option<TopicKey> {
        let topic = AlpacaTopic::parse(topic)?;
        let stream = match topic.channel {
            "trades" => Stream::Trades,
            "quotes" => Stream::Quotes,
            "bars" => Stream::MinuteBars,
            "dailyBars" => Stream::DayBars,
            // Updated bars come only when late trades arrive, so silence is
            // their normal state; the other channels are not decoded.
            _ => return None,
        };
        Some(TopicKey {
            stream,
            classes: ANY_CLASS,
            symbol: (topic.symbol != "*").then(|| Symbol::new(&topic.symbol)),
        })
    }

    fn auth_message(&self, credentials: &Credentials) -> String {
        // A new connection: replies to the last one's messages never come.
        self.spellings().unanswered.clear();
        // A missing secret is sent empty: the server answers 402, which stops
        // the session with a message naming the cause.
        let secret = credentials.secret.as_ref().map_or("", |s| s.expose());
        serde_json::json!({"action": "auth", "key": credentials.key.expose(), "secret": secret})
            .to_string()
    }

    fn subscribe_message(&self, topics: &[String]) -> String {
        let parsed = parse_all(topics);
        let mut spellings = self.spellings();
        for (asked, topic) in &parsed {
            let canonical = topic.canonical();
            spellings.leaving.remove(&canonical);
            // The latest spelling wins: one acknowledgement can answer only one.
            if *asked == canonical {
                spellings.subscribed.remove(&canonical);
            } else {
                spellings.subscribed.insert(canonical, asked.to_string());
            }
        }
        spellings.sent(&parsed);
        action("subscribe", &parsed)
    }

    fn unsubscribe_message(&self, topics: &[String]) -> String {
        let parsed = parse_all(topics);
        let mut spellings = self.spellings();
        for (asked, topic) in &parsed {
            let canonical = topic.canonical();
            spellings.subscribed.remove(&canonical);
            spellings.leaving.insert(canonical, asked.to_string());
        }
        spellings.sent(&parsed);
        action("unsubscribe", &parsed)
    }

    fn control(&self, frame: &[u8]) -> Control {
        let data = Control {
            events: Vec::new(),
            has_data: true,
        };
        if !may_hold_control(frame) {
            return data;
        }
        // Not an array: the decoder reports what is wrong with it.
        let Some(messages) = alpaca_control::parse(frame) else {
            return data;
        };
        let mut control = Control::default();
        for message in &messages {
            match message.kind.str() {
                Some("success") => {
                    let msg = message.msg.str().unwrap_or("");
                    control.events.push(alpaca_control::success(msg));
                }
                Some("error") => control
                    .events
                    .push(self.error(message.code.i64(), message.msg.str().unwrap_or(""))),
                Some("subscription") => control.events.extend(self.subscription(message)),
                _ => control.has_data = true,
            }
        }
        control
    }

    fn decode(&self, frame: &[u8], out: &mut Vec<Event>, issues: &mut Vec<DecodeIssue>) {
        alpaca_decode::decode_frame(frame, out, issues)
    }
}

/// True when the frame holds one of the strings `"success"`, `"subscription"`
/// or `"error"`: every control message has one as its `T`, and a data frame
/// almost never does, so data frames skip the parse. The searches are SIMD
/// substring scans, because this runs on every data frame.
fn may_hold_control(frame: &[u8]) -> bool {
    use memchr::memmem::find;
    find(frame, b"\"success\"").is_some()
        || find(frame, b"\"subscription\"").is_some()
        || find(frame, b"\"error\"").is_some()
}

#[cfg(test)]
#[path = "alpaca_tests.rs"]
mod tests;
