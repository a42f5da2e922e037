//! The fast path against the serde path: same events, same issues, bit for
//! bit, on tables of frames and on many random mutations of them; and the
//! frames providers really send must stay on the fast path.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::scan_array;
use crate::events::Event;
use crate::provider::alpaca_decode::{self, RawMessage};
use crate::provider::polygon_decode::{self, RawEvent};
use crate::provider::DecodeIssue;

type Decoder = fn(&[u8], &mut Vec<Event>, &mut Vec<DecodeIssue>);
type FastDecoder = fn(&[u8], &mut Vec<Event>, &mut Vec<DecodeIssue>) -> Option<()>;

fn polygon_fast(frame: &[u8], out: &mut Vec<Event>, issues: &mut Vec<DecodeIssue>) -> Option<()> {
    scan_array::<RawEvent>(frame, out, issues, RawEvent::default)
}

fn alpaca_fast(frame: &[u8], out: &mut Vec<Event>, issues: &mut Vec<DecodeIssue>) -> Option<()> {
    scan_array::<RawMessage>(frame, out, issues, RawMessage::default)
}

/// Each provider's decoder, its general path and its fast path.
const PROVIDERS: [(&str, Decoder, Decoder, FastDecoder); 2] = [
    (
        "polygon",
        polygon_decode::decode_frame,
        polygon_decode::decode_frame_general,
        polygon_fast,
    ),
    (
        "alpaca",
        alpaca_decode::decode_frame,
        alpaca_decode::decode_frame_general,
        alpaca_fast,
    ),
];

/// Frames as providers send them: the fast path must take every one.
const REAL: &[&str] = &[
    r#"[{"ev":"T","sym":"AAPL","i":"5096","x":10,"p":161.87,"s":300,"c":[14,41],"t":1651684192462,"q":4009402,"z":3}]"#,
    r#"[{"ev":"Q","sym":"MSFT","bx":11,"bp":101.01,"bs":2,"ax":12,"ap":101.02,"as":1,"c":1,"i":[604],"t":1748476800001,"q":50385481,"z":3},{"ev":"T","sym":"O:SPY241220P00720000","x":65,"p":1.54,"s":1,"c":[233],"t":1732550400000,"q":1}]"#,
    r#"[{"ev":"AM","sym":"GTE","v":4110,"av":9470157,"op":0.4372,"vw":0.4488,"o":0.4488,"c":0.4486,"h":0.4489,"l":0.4486,"a":0.4352,"z":685,"s":1610144640000,"e":1610144700000}]"#,
    r#"[{"ev":"XT","pair":"BTC-USD","p":33021.9,"t":1610462007425,"s":0.01544486,"c":[2],"i":"129041","x":1,"r":1610462007432}]"#,
    r#"[{"ev":"status","status":"connected","message":"Connected Successfully"}]"#,
    r#"[{"ev":"LULD","T":"MSFT","h":218.96,"l":198.11,"i":[21],"z":3,"t":1601316752683746,"q":290317}]"#,
    r#"[{"T":"t","S":"AAPL","i":52983525029461,"x":"V","p":226.64,"s":100,"c":["@","I"],"t":"2024-07-24T14:34:12.123456789Z","z":"C"}]"#,
    r#"[{"T":"q","S":"AMD","bx":"U","bp":87.66,"bs":1,"ax":"Q","ap":87.68,"as":4,"t":"2021-02-22T15:51:45.335689322Z","c":["R"],"z":"C"}]"#,
    r#"[{"T":"b","S":"SPY","o":388.985,"h":389.13,"l":388.975,"c":389.12,"v":49378,"t":"2021-02-22T19:15:00Z","n":461,"vw":389.062639}]"#,
    "[]",
    " [ {\"ev\" : \"T\" , \"sym\":\"A\",\"p\":1,\"s\":0,\"t\":1651684192462} ]\n",
    // Elements that are wrong but well-formed JSON are the fast path's too:
    // the same `to_event` turns them into the same issues.
    r#"[{"ev":"T","sym":"AAPL","p":-1,"s":1,"t":1651684192462},{"ev":"ZZ"},{"ev":"T","sym":"","p":1,"s":1,"t":5}]"#,
    r#"[{"ev":"T","sym":"X","p":true,"s":null,"t":1.5,"c":[1,"a"]},{}]"#,
    r#"[{"ev":"T","sym":"X","p":0.1,"p":2.5,"s":1,"t":1651684192462.0,"c":[1.0,-2]}]"#,
    r#"[{"ev":"T","sym":"X","p":-0.0,"s":-0,"t":1651684192462}]"#,
    r#"[{"ev":"T","sym":"Ünïcødé","p":123456789.123456,"s":999999999999999999,"t":1651684192462}]"#,
];

/// Frames the fast path leaves to serde; the result must not change.
const FALLBACK: &[&str] = &[
    r#"[{"ev":"T","sym":"A\u0042","p":1,"s":1,"t":1651684192462}]"#,
    r#"[{"ev":"T","sym":"AB","p":1e2,"s":1,"t":1651684192462}]"#,
    r#"[{"ev":"T","sym":"AB","p":1,"s":1,"t":1651684192462,"extra":{"a":[1,[2]]}}]"#,
    r#"[{"ev":"T","sym":"AB","p":1,"s":12345678901234567890,"t":1651684192462}]"#,
    r#"[{"ev":"T","sym":"AB","p":0.12345678901234567,"s":1,"t":1651684192462}]"#,
    r#"[{"ev":"T","sym":"AB","c":[[1]],"p":1,"s":1,"t":1651684192462}]"#,
    r#"[1,"x",null,{"ev":"T","sym":"AB","p":1,"s":1,"t":1651684192462}]"#,
    r#"{"ev":"T"}"#,
    r#"[{"ev":"T","sym":"AB","p":01,"s":1,"t":1651684192462}]"#,
    r#"[{"ev":"T","sym":"AB","p":1.,"s":1,"t":1651684192462}]"#,
    r#"[{"ev":"T","sym":"AB"}"#,
    r#"[{"ev":"T","sym":"AB"}] x"#,
    "[{\"ev\":\"T\",\"sym\":\"A\tB\"}]",
    "",
];

fn run(decoder: Decoder, frame: &[u8]) -> String {
    let (mut out, mut issues) = (Vec::new(), Vec::new());
    decoder(frame, &mut out, &mut issues);
    // Debug output tells -0.0 from 0.0 and shows every field and message.
    format!("{out:?} {issues:?}")
}

fn fast(decoder: FastDecoder, frame: &[u8]) -> Option<String> {
    let (mut out, mut issues) = (Vec::new(), Vec::new());
    decoder(frame, &mut out, &mut issues).map(|()| format!("{out:?} {issues:?}"))
}

fn assert_same(frame: &[u8]) {
    for (name, decode, general, _) in PROVIDERS {
        assert_eq!(
            run(decode, frame),
            run(general, frame),
            "{name}: {}",
            String::from_utf8_lossy(frame)
        );
    }
}

#[test]
fn real_frames_take_the_fast_path_with_the_general_result() {
    for frame in REAL {
        for (name, _, general, fast_path) in PROVIDERS {
            let fast = fast(fast_path, frame.as_bytes());
            assert_eq!(
                fast.as_deref(),
                Some(run(general, frame.as_bytes()).as_str()),
                "{name}: {frame}"
            );
        }
    }
}

#[test]
fn other_frames_fall_back_to_the_general_result() {
    for frame in FALLBACK {
        for (name, _, _, fast_path) in PROVIDERS {
            assert_eq!(fast(fast_path, frame.as_bytes()), None, "{name}: {frame}");
        }
        assert_same(frame.as_bytes());
    }
}

#[test]
fn a_fallback_discards_what_the_fast_path_appended() {
    let frame = br#"[{"ev":"T","sym":"AB","p":1,"s":1,"t":1651684192462},{"ev":"T","sym":"C\nD"}]"#;
    let (mut out, mut issues) = (Vec::new(), Vec::new());
    polygon_decode::decode_frame(frame, &mut out, &mut issues);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(issues.len(), 1, "{issues:?}");
}

/// Bytes a mutation inserts: JSON punctuation, digits, letters of keys and
/// event types, escapes and one non-ASCII byte.
const ALPHABET: &[u8] = b"[]{}\":,.-+eE0123456789 \\ntfulsTQApxcq\xc3\x9f\x01";

fn mutate(rng: &mut ChaCha8Rng, frame: &[u8]) -> Vec<u8> {
    let mut v = frame.to_vec();
    for _ in 0..rng.random_range(1..=3) {
        let at = rng.random_range(0..=v.len());
        let byte = ALPHABET[rng.random_range(0..ALPHABET.len())];
        match rng.random_range(0..3) {
            0 => v.insert(at, byte),
            1 if at < v.len() => {
                v.remove(at);
            }
            _ if at < v.len() => v[at] = byte,
            _ => v.push(byte),
        }
    }
    v
}

#[test]
fn random_mutations_decode_the_same_on_both_paths() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x7a9e_3a7c);
    let seeds: Vec<&str> = REAL.iter().chain(FALLBACK).copied().collect();
    let mut fast_taken = 0;
    for _ in 0..40_000 {
        let seed = seeds[rng.random_range(0..seeds.len())];
        let frame = mutate(&mut rng, seed.as_bytes());
        assert_same(&frame);
        if fast(polygon_fast, &frame).is_some() {
            fast_taken += 1;
        }
    }
    // Both paths must have been exercised, or the comparison proves little.
    assert!(
        (4_000..36_000).contains(&fast_taken),
        "fast path taken {fast_taken} times of 40 000"
    );
}
