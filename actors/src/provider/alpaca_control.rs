//! Reading Alpaca's control messages: `success`, `subscription` and `error`.
//!
//! These arrive once per connection or per (un)subscribe, never at data rates,
//! so this parse is the slow, thorough one; `Alpaca::control` only calls it
//! for frames that can hold a control message at all. It still
//! borrows from the frame and tolerates anything: a frame it cannot read is
//! handed to the data decoder, which reports what is wrong with it.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::flex::{Flex, Key};
use super::frame::clip;
use super::ControlEvent;

/// One element of a frame, as far as control messages are concerned.
#[derive(Debug, Default)]
pub(crate) struct ControlMessage<'a> {
    /// `T`: `success`, `subscription`, `error`, or a data type.
    pub kind: Flex<'a>,
    /// `msg` of `success` and `error`.
    pub msg: Flex<'a>,
    /// `code` of `error`.
    pub code: Flex<'a>,
    /// Every other key whose value is an array of strings: the channels of a
    /// `subscription` (`trades: ["AAPL"]`).
    pub lists: Vec<(Cow<'a, str>, Vec<Cow<'a, str>>)>,
}

/// The elements of a frame; `None` when the frame is not a JSON array.
pub(crate) fn parse(frame: &[u8]) -> Option<Vec<ControlMessage<'_>>> {
    serde_json::from_slice(frame).ok()
}

/// What a `success` message stands for.
pub(crate) fn success(msg: &str) -> ControlEvent {
    match msg {
        "connected" => ControlEvent::Connected,
        "authenticated" => ControlEvent::AuthSuccess,
        other => ControlEvent::Other(format!("success: {}", clip(other, 200))),
    }
}

/// How the session must react to an error code.
#[derive(Clone, Copy)]
enum Reaction {
    /// Stop: retrying cannot fix the key, the plan or the feed.
    Stop,
    /// Reconnect after the long cool-down.
    CoolDown,
    /// Reconnect with the usual backoff.
    Retry,
    /// Report and carry on.
    Report,
}

/// Alpaca's error codes (reference §4.4): name, what it means here, reaction.
/// The Go SDK also treats 410 as irrecoverable, but 410 answers a subscribe
/// message, not the connection: it refuses that change and nothing else.
#[rustfmt::skip]
const ERRORS: &[(i64, &str, &str, Reaction)] = &[
    (400, "invalid syntax", "a message or a symbol in it is malformed", Reaction::Report),
    (401, "not authenticated", "(un)subscribe arrived before auth", Reaction::Report),
    (402, "auth failed", "wrong key id or secret", Reaction::Stop),
    (403, "already authenticated", "auth was sent twice; harmless", Reaction::Report),
    (404, "auth timeout", "no auth within 10 s of connecting", Reaction::Retry),
    (405, "symbol limit exceeded", "over the plan's symbol limit; subscriptions unchanged", Reaction::Report),
    (406, "connection limit exceeded", "another session is using this key", Reaction::CoolDown),
    (407, "slow client", "the server's buffer for this connection is full; a disconnect may follow", Reaction::Report),
    (408, "v2 not enabled", "the account cannot use market data v2", Reaction::Report),
    (409, "insufficient subscription", "this feed is not in the account's plan", Reaction::Stop),
    (410, "invalid subscribe action for this feed", "a channel this feed does not have", Reaction::Report),
    (411, "insufficient scope", "the token lacks the market-data scope", Reaction::Stop),
    (412, "msgpack required", "this feed (options) speaks msgpack only", Reaction::Report),
    (413, "star subscription not allowed", "option quotes cannot be subscribed with `*`", Reaction::Report),
    (500, "internal error", "the server failed", Reaction::Report),
];

/// Codes that answer a `subscribe` or `unsubscribe` message rather than the
/// connection.
pub(crate) const ANSWERS_ACTION: &[i64] = &[400, 401, 405, 410, 413];

/// What an `error` message stands for. The text names the code and its
/// meaning, then quotes the server's own (clipped) message.
pub(crate) fn error(code: Option<i64>, msg: &str) -> ControlEvent {
    let msg = clip(msg, 200);
    let known = code.and_then(|c| ERRORS.iter().find(|(n, ..)| *n == c));
    let Some(&(code, name, meaning, reaction)) = known else {
        return ControlEvent::Error(match code {
            Some(code) => format!("error {code}: server said \"{msg}\""),
            None => format!("error without a code: server said \"{msg}\""),
        });
    };
    let text = format!("{name} ({code}): {meaning}; server said \"{msg}\"");
    match reaction {
        Reaction::Stop => ControlEvent::AuthFailed(text),
        Reaction::CoolDown => ControlEvent::MaxConnections(text),
        Reaction::Retry => ControlEvent::AuthTimeout(text),
        Reaction::Report => ControlEvent::Error(text),
    }
}

impl<'de> Deserialize<'de> for ControlMessage<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MessageVisitor)
    }
}

struct MessageVisitor;

impl<'de> Visitor<'de> for MessageVisitor {
    type Value = ControlMessage<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a message object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut message = ControlMessage::default();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let slot = match key.as_ref() {
                "T" => &mut message.kind,
                "msg" => &mut message.msg,
                "code" => &mut message.code,
                _ => {
                    if let StrList(Some(list)) = map.next_value::<StrList<'de>>()? {
                        message.lists.push((key, list));
                    }
                    continue;
                }
            };
            *slot = map.next_value::<Flex<'de>>()?;
        }
        Ok(message)
    }

    // Anything but an object has no `T`, so it counts as data for the decoder
    // to report.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(ControlMessage::default())
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(ControlMessage::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(ControlMessage::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(ControlMessage::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(ControlMessage::default())
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(ControlMessage::default())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(ControlMessage::default())
    }
}

/// A value read as a list of strings if it is an array (non-strings in it are
/// dropped), and as `None` if it is anything else.
struct StrList<'a>(Option<Vec<Cow<'a, str>>>);

impl<'de> Deserialize<'de> for StrList<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrListVisitor)
    }
}

struct StrListVisitor;

impl<'de> Visitor<'de> for StrListVisitor {
    type Value = StrList<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut list = Vec::new();
        while let Some(item) = seq.next_element::<Flex<'de>>()? {
            if let Flex::Str(s) = item {
                list.push(s);
            }
        }
        Ok(StrList(Some(list)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(StrList(None))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(StrList(None))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(StrList(None))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(StrList(None))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(StrList(None))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(StrList(None))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(StrList(None))
    }
}
