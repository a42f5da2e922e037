//! The wire format of status and data frames, byte for byte.

use super::instruments::Market;
use super::sim_event::{SimEvent, SimQuote, SimTrade};
use super::wire::{status_frame, FrameWriter};

fn trade(conditions: &'static [i32]) -> SimEvent {
    SimEvent::Trade(SimTrade {
        index: 0,
        symbol: "AAPL",
        exchange: 4,
        price: 271.25,
        size: 300,
        conditions,
        time_ms: 1_767_225_600_000,
        sequence: 12,
        trade_id: 5096,
        tape: 3,
    })
}

fn quote() -> SimEvent {
    SimEvent::Quote(SimQuote {
        symbol: "O:SPY261218C00600000",
        bid_exchange: 302,
        bid: 9.71,
        bid_size: 17,
        ask_exchange: 303,
        ask: 9.81,
        ask_size: 24,
        time_ms: 1_767_225_600_010,
        sequence: 8,
        tape: 0,
    })
}

#[test]
fn status_frames_are_one_element_arrays() {
    assert_eq!(
        status_frame("connected", "Connected Successfully"),
        r#"[{"ev":"status","status":"connected","message":"Connected Successfully"}]"#
    );
}

#[test]
fn stock_trades_carry_a_string_id_and_omit_empty_conditions() {
    let mut frame = FrameWriter::new(Market::Stocks);
    frame.push(&trade(&[14, 41]));
    frame.push(&trade(&[]));
    assert_eq!(
        frame.finish().as_deref(),
        Some(concat!(
            r#"[{"ev":"T","sym":"AAPL","i":"5096","x":4,"p":271.25,"s":300,"c":[14,41],"t":1767225600000,"q":12,"z":3},"#,
            r#"{"ev":"T","sym":"AAPL","i":"5096","x":4,"p":271.25,"s":300,"t":1767225600000,"q":12,"z":3}]"#
        ))
    );
}

#[test]
fn option_events_have_no_trade_id_and_no_tape() {
    let mut frame = FrameWriter::new(Market::Options);
    frame.push(&trade(&[209]));
    frame.push(&quote());
    assert_eq!(
        frame.finish().as_deref(),
        Some(concat!(
            r#"[{"ev":"T","sym":"AAPL","x":4,"p":271.25,"s":300,"c":[209],"t":1767225600000,"q":12},"#,
            r#"{"ev":"Q","sym":"O:SPY261218C00600000","bx":302,"ax":303,"bp":9.71,"ap":9.81,"bs":17,"as":24,"t":1767225600010,"q":8}]"#
        ))
    );
}

#[test]
fn stock_quotes_follow_the_nbbo_shape() {
    let mut frame = FrameWriter::new(Market::Stocks);
    frame.push(&quote());
    assert_eq!(
        frame.finish().as_deref(),
        Some(concat!(
            r#"[{"ev":"Q","sym":"O:SPY261218C00600000","bx":302,"bp":9.71,"bs":17,"#,
            r#""ax":303,"ap":9.81,"as":24,"t":1767225600010,"q":8,"z":0}]"#
        ))
    );
}

#[test]
fn an_empty_writer_makes_no_frame() {
    let frame = FrameWriter::new(Market::Stocks);
    assert_eq!(frame.finish(), None);
}
