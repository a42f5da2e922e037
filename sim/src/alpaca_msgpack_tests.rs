//! The Alpaca simulator in msgpack mode, as alpaca-py uses it: binary frames
//! both ways, client messages fragmented into continuation frames, and event
//! times as msgpack Timestamp extensions, read here with rmpv.

use actix_http::ws::Item;
use awc::ws::Message;
use bytes::Bytes;
use rmpv::Value as Mp;
use serde_json::{json, Value};

use super::alpaca_tests::echo;
use super::test_client::{start_sim, WsClient};
use super::{SimConfig, SimProvider};

/// A msgpack value as JSON, with a Timestamp ext as `{"ext":-1,"len":N}`.
fn to_json(value: &Mp) -> Value {
    match value {
        Mp::Array(items) => items.iter().map(to_json).collect(),
        Mp::Map(pairs) => {
            let entry = |(k, v): &(Mp, Mp)| (k.as_str().unwrap_or("?").to_owned(), to_json(v));
            Value::Object(pairs.iter().map(entry).collect())
        }
        Mp::Ext(kind, data) => json!({"ext": kind, "len": data.len()}),
        Mp::String(s) => json!(s.as_str()),
        Mp::F64(f) => json!(f),
        other => serde_json::from_str(&other.to_string()).unwrap_or(Value::Null),
    }
}

async fn read_msgpack(ws: &mut WsClient) -> Value {
    let bytes = ws.binary().await;
    let value = rmpv::decode::read_value(&mut &bytes[..]).expect("frames are msgpack");
    to_json(&value)
}

#[actix::test]
async fn msgpack_mode_reads_fragmented_messages_and_stamps_times_as_ext() {
    let sim = start_sim(SimConfig {
        provider: SimProvider::Alpaca,
        ..SimConfig::default()
    })
    .await;
    let mut ws = WsClient::connect_as(&sim.ws_url("v2/iex"), "application/msgpack").await;
    assert_eq!(
        read_msgpack(&mut ws).await,
        json!([{"T": "success", "msg": "connected"}])
    );
    let packed = |v: Value| Bytes::from(rmp_serde::to_vec_named(&v).unwrap_or_default());
    ws.send_message(Message::Binary(packed(
        json!({"action": "auth", "key": "k", "secret": "s"}),
    )))
    .await;
    assert_eq!(read_msgpack(&mut ws).await[0]["msg"], "authenticated");
    // alpaca-py splits a subscribe into 32 KiB fragments; three small ones here.
    let subscribe = packed(json!({"action": "subscribe", "trades": ["*"]}));
    let (first, rest) = subscribe.split_at(5);
    let (middle, last) = rest.split_at(5);
    for item in [
        Item::FirstBinary(Bytes::copy_from_slice(first)),
        Item::Continue(Bytes::copy_from_slice(middle)),
        Item::Last(Bytes::copy_from_slice(last)),
    ] {
        ws.send_message(Message::Continuation(item)).await;
    }
    assert_eq!(read_msgpack(&mut ws).await, echo(&["*"], &[]));
    // The first trade is on a whole second (the 4-byte form); the next ones
    // are 10 ms apart (the 8-byte form).
    let mut forms = Vec::new();
    for _ in 0..3 {
        let frame = read_msgpack(&mut ws).await;
        for trade in frame.as_array().cloned().unwrap_or_default() {
            assert_eq!(trade["T"], "t");
            assert!(trade["p"].as_f64().is_some_and(|p| p > 0.0), "{trade}");
            assert_eq!(trade["t"]["ext"], -1, "{trade}");
            forms.push(trade["t"]["len"].as_u64().unwrap_or(0));
        }
    }
    assert_eq!(forms[0], 4, "{forms:?}");
    assert!(forms[1..].iter().all(|len| *len == 8), "{forms:?}");
    sim.stop().await;
}
