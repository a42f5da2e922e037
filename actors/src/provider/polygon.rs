//! The Polygon/Massive WebSocket protocol.
//!
//! `connected` status → `{"action":"auth","params":KEY}` → `auth_success` |
//! `auth_failed` → `{"action":"subscribe","params":"T.*,Q.AAPL"}` → one
//! `success` status per topic → data frames (JSON arrays keyed by `ev`).

use super::topic::{Stream, TopicKey, ANY_CLASS};
use super::{polygon_decode, Control, ControlEvent, DecodeIssue, Provider};
use crate::events::{AssetClass, Event, Symbol};
use crate::secret::Credentials;

/// The Polygon/Massive provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct Polygon;

/// Default real-time host for Massive (formerly Polygon.io) WebSocket feeds.
pub const DEFAULT_FEED_HOST: &str = "wss://socket.massive.com";
/// Default REST base URL.
pub const DEFAULT_REST_URL: &str = "https://api.massive.com";
/// The markets served under [`DEFAULT_FEED_HOST`], one path segment each.
const MARKETS: &[&str] = &["stocks", "options", "indices", "forex", "crypto"];

impl Provider for Polygon {
    fn name(&self) -> &'static str {
        "polygon"
    }

    fn default_url(&self, market: &str) -> Option<String> {
        MARKETS
            .contains(&market)
            .then(|| format!("{DEFAULT_FEED_HOST}/{market}"))
    }

    fn topic_of(&self, topic: &str) -> Option<TopicKey> {
        // `T` covers stocks and options, crypto trades come as `XT`; quotes and
        // aggregates are per market, so their symbol alone decides the class.
        const NOT_CRYPTO: &[AssetClass] = &[AssetClass::Stock, AssetClass::Option];
        const CRYPTO: &[AssetClass] = &[AssetClass::Crypto];
        let (prefix, symbol) = topic.split_once('.')?;
        let (stream, classes) = match prefix.trim() {
            "T" => (Stream::Trades, NOT_CRYPTO),
            "XT" => (Stream::Trades, CRYPTO),
            "Q" => (Stream::Quotes, ANY_CLASS),
            "A" => (Stream::SecondBars, ANY_CLASS),
            "AM" => (Stream::MinuteBars, ANY_CLASS),
            _ => return None,
        };
        let symbol = match symbol.trim() {
            "" => return None,
            "*" => None,
            s => Some(Symbol::new(s)),
        };
        Some(TopicKey {
            stream,
            classes,
            symbol,
        })
    }

    fn auth_message(&self, credentials: &Credentials) -> String {
        serde_json::json!({"action": "auth", "params": credentials.key.expose()}).to_string()
    }

    fn subscribe_message(&self, topics: &[String]) -> String {
        action("subscribe", topics)
    }

    fn unsubscribe_message(&self, topics: &[String]) -> String {
        action("unsubscribe", topics)
    }

    fn control(&self, frame: &[u8]) -> Control {
        // Data frames never contain the key "status"; skip the parse for them.
        if !has_status_key(frame) {
            return Control {
                events: Vec::new(),
                has_data: true,
            };
        }
        let mut events = Vec::new();
        let mut issues = Vec::new();
        polygon_decode::decode_frame(frame, &mut events, &mut issues);
        let mut control = Control::default();
        for event in events {
            match event {
                Event::Status(s) => control
                    .events
                    .extend(status_to_control(&s.status, &s.message)),
                _ => control.has_data = true,
            }
        }
        control.events = refusals(control.events);
        // Let the decoder count whatever was wrong with the frame.
        control.has_data |= !issues.is_empty();
        control
    }

    fn decode(&self, frame: &[u8], out: &mut Vec<Event>, issues: &mut Vec<DecodeIssue>) {
        polygon_decode::decode_frame(frame, out, issues)
    }
}

fn action(action: &str, topics: &[String]) -> String {
    serde_json::json!({"action": action, "params": topics.join(",")}).to_string()
}

/// Finds `"status"` in a frame with a SIMD substring search built once,
/// because this runs on every data frame.
fn has_status_key(frame: &[u8]) -> bool {
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"status\""));
    FINDER.find(frame).is_some()
}

/// Reads an `error` that directly follows `subscribed to` acknowledgements
/// in the same frame as the refusal of those topics: that is how the service
/// answers a topic the plan does not cover (`subscribed to: XT.BTC-USD`, then
/// `not authorized`). Any other error is left as it is.
pub fn refusals(events: Vec<ControlEvent>) -> Vec<ControlEvent> {
    let mut out: Vec<ControlEvent> = Vec::with_capacity(events.len());
    for event in events {
        if let ControlEvent::Error(message) = &event {
            let acks = out
                .iter()
                .rposition(|e| !matches!(e, ControlEvent::Subscribed(_)))
                .map_or(0, |i| i + 1);
            if acks < out.len() {
                let topics = out
                    .drain(acks..)
                    .filter_map(|e| match e {
                        ControlEvent::Subscribed(t) => Some(t),
                        _ => None,
                    })
                    .collect();
                out.push(ControlEvent::Rejected {
                    topics,
                    message: message.clone(),
                });
                continue;
            }
        }
        out.push(event);
    }
    out
}

/// Maps one Polygon status message to the control events it stands for.
pub fn status_to_control(status: &str, message: &str) -> Vec<ControlEvent> {
    let topics = |prefix: &str| -> Option<Vec<String>> {
        let rest = message.strip_prefix(prefix)?;
        Some(
            rest.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    };
    match status {
        "connected" => vec![ControlEvent::Connected],
        "auth_success" => vec![ControlEvent::AuthSuccess],
        // Servers before 2021 answered auth with `success` + `authenticated`.
        "success" if message == "authenticated" => vec![ControlEvent::AuthSuccess],
        "auth_failed" => vec![ControlEvent::AuthFailed(message.to_owned())],
        // We were too slow to authenticate; the key may be fine.
        "auth_timeout" => vec![ControlEvent::AuthTimeout(message.to_owned())],
        "error" if message == "authentication failed" => {
            vec![ControlEvent::AuthFailed(message.to_owned())]
        }
        "max_connections" => vec![ControlEvent::MaxConnections(message.to_owned())],
        "success" => {
            if let Some(t) = topics("subscribed to:") {
                t.into_iter().map(ControlEvent::Subscribed).collect()
            } else if let Some(t) = topics("unsubscribed to:") {
                t.into_iter().map(ControlEvent::Unsubscribed).collect()
            } else {
                vec![ControlEvent::Other(message.to_owned())]
            }
        }
        "error" => vec![ControlEvent::Error(message.to_owned())],
        _ => vec![ControlEvent::Other(format!("{status}: {message}"))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::ApiKey;

    #[test]
    fn handshake_messages_match_the_wire_format() {
        let creds = Credentials::key(ApiKey::new("K3Y"));
        assert_eq!(
            Polygon.auth_message(&creds),
            r#"{"action":"auth","params":"K3Y"}"#
        );
        let topics = vec!["T.*".to_owned(), "Q.AAPL".to_owned()];
        assert_eq!(
            Polygon.subscribe_message(&topics),
            r#"{"action":"subscribe","params":"T.*,Q.AAPL"}"#
        );
        assert_eq!(
            Polygon.unsubscribe_message(&topics[..1]),
            r#"{"action":"unsubscribe","params":"T.*"}"#
        );
    }

    #[test]
    fn default_urls_and_topics() {
        assert_eq!(
            Polygon.default_url("options").as_deref(),
            Some("wss://socket.massive.com/options")
        );
        assert_eq!(Polygon.default_url("iex"), None);
        let key = Polygon.topic_of(" XT.BTC-USD").expect("valid topic");
        assert_eq!(key.stream, Stream::Trades);
        assert_eq!(key.classes, &[AssetClass::Crypto]);
        assert_eq!(key.symbol.as_deref(), Some("BTC-USD"));
        let key = Polygon
            .topic_of("T.O:SPY241220P00720000")
            .expect("valid topic");
        assert_eq!(key.symbol.as_deref(), Some("O:SPY241220P00720000"));
        assert_eq!(Polygon.topic_of("AM.*").map(|k| k.symbol), Some(None));
        for bad in ["bogus", "ZZ.X", "T.", "LULD.AAPL", "trades:AAPL"] {
            assert_eq!(Polygon.topic_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn status_table() {
        use ControlEvent::*;
        let cases: Vec<(&str, &str, Vec<ControlEvent>)> = vec![
            ("connected", "Connected Successfully", vec![Connected]),
            ("auth_success", "authenticated", vec![AuthSuccess]),
            ("success", "authenticated", vec![AuthSuccess]),
            (
                "auth_failed",
                "authentication failed",
                vec![AuthFailed("authentication failed".into())],
            ),
            (
                "auth_timeout",
                "No authentication request received.",
                vec![AuthTimeout("No authentication request received.".into())],
            ),
            (
                "success",
                "subscribed to: T.AAPL",
                vec![Subscribed("T.AAPL".into())],
            ),
            (
                "success",
                "subscribed to: T.AAPL,Q.AAPL, A.AAPL",
                vec![
                    Subscribed("T.AAPL".into()),
                    Subscribed("Q.AAPL".into()),
                    Subscribed("A.AAPL".into()),
                ],
            ),
            (
                "success",
                "unsubscribed to: T.AAPL",
                vec![Unsubscribed("T.AAPL".into())],
            ),
            (
                "max_connections",
                "Maximum number of websocket connections exceeded. ",
                vec![MaxConnections(
                    "Maximum number of websocket connections exceeded. ".into(),
                )],
            ),
            (
                "error",
                "not authorized",
                vec![Error("not authorized".into())],
            ),
            ("weird", "x", vec![Other("weird: x".into())]),
        ];
        for (status, message, want) in cases {
            assert_eq!(
                status_to_control(status, message),
                want,
                "{status}/{message}"
            );
        }
    }

    #[test]
    fn an_error_right_after_acknowledgements_refuses_those_topics() {
        use ControlEvent::*;
        let sub = |t: &str| Subscribed(t.into());
        let err = || Error("not authorized".into());
        let rejected = |topics: &[&str]| Rejected {
            topics: topics.iter().map(|t| t.to_string()).collect(),
            message: "not authorized".into(),
        };
        let cases: Vec<(Vec<ControlEvent>, Vec<ControlEvent>)> = vec![
            (vec![err()], vec![err()]),
            (
                vec![sub("XT.BTC-USD"), err()],
                vec![rejected(&["XT.BTC-USD"])],
            ),
            (
                vec![AuthSuccess, sub("T.A"), sub("T.B"), err()],
                vec![AuthSuccess, rejected(&["T.A", "T.B"])],
            ),
            (
                vec![sub("T.A"), Other("x".into()), err()],
                vec![sub("T.A"), Other("x".into()), err()],
            ),
            (vec![sub("T.A"), sub("T.B")], vec![sub("T.A"), sub("T.B")]),
            (vec![err(), sub("T.A")], vec![err(), sub("T.A")]),
        ];
        for (events, want) in cases {
            assert_eq!(refusals(events.clone()), want, "{events:?}");
        }
        let frame = br#"[{"ev":"status","status":"success","message":"subscribed to: XT.BTC-USD"},{"ev":"status","status":"error","message":"not authorized"}]"#;
        assert_eq!(
            Polygon.control(frame).events,
            vec![rejected(&["XT.BTC-USD"])]
        );
    }

    #[test]
    fn control_reads_status_frames_and_skips_data_frames() {
        let data = br#"[{"ev":"T","sym":"MSFT","i":"50578","x":4,"p":215.9721,"s":100,"t":1611082428813,"z":3}]"#;
        let c = Polygon.control(data);
        assert!(c.events.is_empty() && c.has_data);

        let hello = br#"[{"ev":"status","status":"connected","message":"Connected Successfully"}]"#;
        assert_eq!(
            Polygon.control(hello),
            Control {
                events: vec![ControlEvent::Connected],
                has_data: false
            }
        );

        let mixed = br#"[{"ev":"status","status":"success","message":"authenticated"},{"ev":"status","status":"success","message":"subscribed to: C.AUD/USD"}]"#;
        assert_eq!(
            Polygon.control(mixed).events,
            vec![
                ControlEvent::AuthSuccess,
                ControlEvent::Subscribed("C.AUD/USD".into())
            ]
        );

        let status_and_trade = br#"[{"ev":"status","status":"error","message":"not authorized"},{"ev":"T","sym":"A","p":1,"s":1,"t":1611082428813}]"#;
        let c = Polygon.control(status_and_trade);
        assert!(c.has_data);
        assert_eq!(c.events, vec![ControlEvent::Error("not authorized".into())]);
    }
}
