//! From [`GenericSpec`] to [`Compiled`]: every pointer parsed and merged into
//! the walk's tries, every condition and template checked, every variable
//! resolved or refused. Errors name the key under `[generic]` and say why.

use std::collections::BTreeSet;
use std::time::Duration;

use super::builder::{unit, Builder};
use super::condition::Cond;
use super::decode::{Mapping, QuoteMap, TradeMap};
use super::pointer::{self, Trie};
use super::spec::GenericSpec;
use super::template::{Scope, Template, TopicsFormat};
use super::walk::Plan;
use super::SpecError;
use crate::events::AssetClass;
use crate::provider::topic::Stream;

/// A compiled handshake step.
#[derive(Debug)]
pub(super) struct Step {
    pub name: String,
    pub send: Option<Template>,
    pub wait: Option<Cond>,
    pub captures: Vec<(String, usize)>,
    pub timeout: Duration,
    pub fail: Vec<Outcome>,
}

/// A condition with the pointer of its message and whether it is terminal.
#[derive(Debug)]
pub(super) struct Outcome {
    pub when: Cond,
    pub message: Option<usize>,
    pub terminal: bool,
}

/// A compiled acknowledgement rule.
#[derive(Debug)]
pub(super) struct Ack {
    pub when: Cond,
    pub topics: Option<usize>,
}

/// A compiled answer to the server's ping.
#[derive(Debug)]
pub(super) struct Pong {
    pub when: Cond,
    pub captures: Vec<(String, usize)>,
    pub message: Template,
}

/// The whole protocol, ready to run.
#[derive(Debug)]
pub struct Compiled {
    pub(super) plan: Plan,
    pub(super) mapping: Mapping,
    pub(super) data_when: Option<Cond>,
    pub(super) ignore: Vec<Cond>,
    pub(super) errors: Vec<Outcome>,
    pub(super) steps: Vec<Step>,
    pub(super) per_topic: bool,
    pub(super) format: TopicsFormat,
    pub(super) subscribe: Template,
    pub(super) unsubscribe: Template,
    pub(super) ack: Option<Ack>,
    pub(super) unsubscribe_ack: Option<Ack>,
    pub(super) heartbeat: Option<(Duration, Template)>,
    pub(super) pong: Option<Pong>,
    pub(super) headers: Vec<(String, Template)>,
    pub(super) stream: Stream,
    pub(super) strip_prefix: String,
    /// The keys of flat events for the byte scanner, when they are flat.
    pub(super) flat: Option<Vec<(Box<[u8]>, usize)>>,
}

/// Compiles a spec, reading `${env:NAME}` through `env`.
pub(super) fn compile(
    spec: &GenericSpec,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Compiled, SpecError> {
    let mut b = Builder {
        frame: Trie::default(),
        element: Trie::default(),
        next: 0,
        env,
    };
    let no_captures = BTreeSet::new();
    let env_only = Scope {
        captures: &no_captures,
        topics: false,
        topic: false,
    };
    let headers = spec
        .headers
        .iter()
        .map(|(name, value)| {
            let key = format!("headers.{name}");
            let valid = awc::http::header::HeaderName::from_bytes(name.as_bytes()).is_ok();
            if !valid {
                return Err(SpecError::new(&key, "is not a valid HTTP header name"));
            }
            Ok((name.clone(), b.template(value, &key, &env_only, false)?))
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut known = BTreeSet::new();
    let mut steps = Vec::new();
    for (i, s) in spec.handshake.iter().enumerate() {
        let key = format!("handshake[{i}]");
        if s.send.is_none() && s.wait.is_none() {
            return Err(SpecError::new(&key, "needs `send`, `wait` or both"));
        }
        if s.wait.is_none() && !(s.capture.is_empty() && s.fail.is_empty()) {
            return Err(SpecError::new(&key, "`capture` and `fail` need a `wait`"));
        }
        if s.wait.is_some() && s.timeout_ms == 0 {
            return Err(SpecError::new(
                &format!("{key}.timeout_ms"),
                "must be at least 1",
            ));
        }
        let scope = Scope {
            captures: &known,
            topics: false,
            topic: false,
        };
        let send = match &s.send {
            Some(t) => Some(b.template(t, &format!("{key}.send"), &scope, true)?),
            None => None,
        };
        let wait = match &s.wait {
            Some(c) => Some(b.cond(c, &format!("{key}.wait"))?),
            None => None,
        };
        let fail = (s.fail.iter().enumerate())
            .map(|(j, f)| b.outcome(&f.when, &f.message, f.terminal, &format!("{key}.fail[{j}]")))
            .collect::<Result<_, _>>()?;
        let captures = b.captures(&s.capture, &format!("{key}.capture"), &mut known)?;
        steps.push(Step {
            name: if s.name.is_empty() {
                format!("{}", i + 1)
            } else {
                s.name.clone()
            },
            send,
            wait,
            captures,
            timeout: Duration::from_millis(s.timeout_ms),
            fail,
        });
    }

    let sub = &spec.subscribe;
    let per_topic = match sub.mode.as_str() {
        "all" => false,
        "per_topic" => true,
        other => {
            return Err(SpecError::new(
                "subscribe.mode",
                &format!("`{other}` is not a mode (known: all, per_topic)"),
            ))
        }
    };
    let format = match sub.topics_format.as_str() {
        "json_array" => TopicsFormat::JsonArray,
        "joined" => TopicsFormat::Joined(sub.separator.clone()),
        other => {
            return Err(SpecError::new(
                "subscribe.topics_format",
                &format!("`{other}` is not a format (known: json_array, joined)"),
            ))
        }
    };
    let scope = Scope {
        captures: &known,
        topics: !per_topic,
        topic: per_topic,
    };
    if sub.message.is_empty() {
        return Err(SpecError::new("subscribe.message", "is required"));
    }
    let subscribe = b.template(&sub.message, "subscribe.message", &scope, true)?;
    let unsubscribe = if sub.unsubscribe.is_empty() {
        return Err(SpecError::new("subscribe.unsubscribe", "is required"));
    } else {
        b.template(&sub.unsubscribe, "subscribe.unsubscribe", &scope, true)?
    };
    let ack = b.ack(&sub.ack, "subscribe.ack")?;
    let unsubscribe_ack = b.ack(&sub.unsubscribe_ack, "subscribe.unsubscribe_ack")?;

    let hb = &spec.heartbeat;
    let scope = Scope {
        captures: &known,
        topics: false,
        topic: false,
    };
    let heartbeat = match (&hb.message, hb.every_s) {
        (Some(m), s) if s > 0 => Some((
            Duration::from_secs(s),
            b.template(m, "heartbeat.message", &scope, true)?,
        )),
        (None, 0) => None,
        (Some(_), _) => return Err(SpecError::new("heartbeat.every_s", "must be at least 1")),
        (None, _) => {
            return Err(SpecError::new(
                "heartbeat.message",
                "is required with `every_s`",
            ))
        }
    };
    let pong = match &hb.pong {
        Some(p) => {
            let when = b.cond(&p.when, "heartbeat.pong.when")?;
            let mut with_ping = known.clone();
            let captures = b.captures(&p.capture, "heartbeat.pong.capture", &mut with_ping)?;
            let scope = Scope {
                captures: &with_ping,
                topics: false,
                topic: false,
            };
            let message = b.template(&p.message, "heartbeat.pong.message", &scope, true)?;
            Some(Pong {
                when,
                captures,
                message,
            })
        }
        None => None,
    };

    let errors = (spec.errors.iter().enumerate())
        .map(|(i, e)| b.outcome(&e.when, &e.message, e.terminal, &format!("errors[{i}]")))
        .collect::<Result<_, _>>()?;
    let data = &spec.data;
    let data_when = match &data.when {
        Some(c) => Some(b.cond(c, "data.when")?),
        None => None,
    };
    let ignore = (data.ignore.iter().enumerate())
        .map(|(i, c)| b.cond(c, &format!("data.ignore[{i}]")))
        .collect::<Result<_, _>>()?;
    let events = pointer::parse(&data.events).map_err(|m| SpecError::new("data.events", &m))?;
    let events_node = b.frame.node(&events);
    let frame_slots = b.next;

    let skip = (data.skip.iter().enumerate())
        .map(|(i, c)| b.event_cond(&Some(c.clone()), &format!("data.skip[{i}]")))
        .collect::<Result<Option<Vec<_>>, _>>()?
        .unwrap_or_default();
    let trade = match &data.trade {
        Some(t) => Some(TradeMap {
            when: b.event_cond(&t.when, "data.trade.when")?,
            symbol: b.field(&t.symbol, "data.trade.symbol")?,
            price: b.field(&t.price, "data.trade.price")?,
            size: b.field(&t.size, "data.trade.size")?,
            time: b.field(&t.time, "data.trade.time")?,
            unit: unit(&t.time_unit, "data.trade.time_unit")?,
            id: b.opt_field(&t.id, "data.trade.id")?,
            sequence: b.opt_field(&t.sequence, "data.trade.sequence")?,
            exchange: b.opt_field(&t.exchange, "data.trade.exchange")?,
            conditions: b.opt_field(&t.conditions, "data.trade.conditions")?,
        }),
        None => None,
    };
    let quote = match &data.quote {
        Some(q) => Some(QuoteMap {
            when: b.event_cond(&q.when, "data.quote.when")?,
            symbol: b.field(&q.symbol, "data.quote.symbol")?,
            bid: b.field(&q.bid, "data.quote.bid")?,
            bid_size: b.opt_field(&q.bid_size, "data.quote.bid_size")?,
            ask: b.field(&q.ask, "data.quote.ask")?,
            ask_size: b.opt_field(&q.ask_size, "data.quote.ask_size")?,
            time: b.field(&q.time, "data.quote.time")?,
            unit: unit(&q.time_unit, "data.quote.time_unit")?,
        }),
        None => None,
    };
    if trade.is_none() && quote.is_none() {
        return Err(SpecError::new(
            "data",
            "needs a `trade` or a `quote` rule, or both",
        ));
    }
    let class = match spec.asset_class.as_str() {
        "" | "auto" => None,
        "stock" => Some(AssetClass::Stock),
        "option" => Some(AssetClass::Option),
        "crypto" => Some(AssetClass::Crypto),
        other => {
            return Err(SpecError::new(
                "asset_class",
                &format!("`{other}` is not an asset class (known: auto, stock, option, crypto)"),
            ))
        }
    };
    let stream = match spec.topics.stream.as_str() {
        "trades" => Stream::Trades,
        "quotes" => Stream::Quotes,
        other => {
            return Err(SpecError::new(
                "topics.stream",
                &format!("`{other}` is not a stream (known: trades, quotes)"),
            ))
        }
    };

    let mut object = Trie::default();
    object.graft(&b.frame, events_node, 0);
    object.graft(&b.element, 0, 0);
    let plan = Plan {
        frame: b.frame,
        events_node,
        object,
        element: b.element,
        frame_slots,
        slots: b.next,
    };
    let mut compiled = Compiled {
        plan,
        mapping: Mapping {
            class,
            skip,
            quote,
            trade,
        },
        data_when,
        ignore,
        errors,
        steps,
        per_topic,
        format,
        subscribe,
        unsubscribe,
        ack,
        unsubscribe_ack,
        heartbeat,
        pong,
        headers,
        stream,
        strip_prefix: spec.topics.strip_prefix.clone(),
        flat: None,
    };
    compiled.flat = super::flat::keys(&compiled);
    Ok(compiled)
}
