//! Parser of OCC option tickers such as `O:NVDA261218C00500000`.
//!
//! The ticker is read from the right: its last 15 characters are always the
//! expiry (`YYMMDD`), the right (`C` or `P`) and the strike in thousandths
//! (8 digits), while the root before them varies in length (`F`, `NVDA`, `SPXW`,
//! `AMC1`, `BRK.B`). Parsing borrows the root from the input and never
//! allocates, so it can run on every option trade. Any input is accepted without
//! panicking: text that is not a valid ticker, including non-ASCII text, yields
//! `None`.

/// Length of the fixed tail: `YYMMDD` + right + 8-digit strike.
const TAIL_LEN: usize = 15;

/// Longest root the OCC symbology allows.
const MAX_ROOT_LEN: usize = 6;

/// The prefix Polygon/Massive put in front of option tickers.
const POLYGON_PREFIX: &str = "O:";

/// Whether a contract is a call or a put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptionRight {
    /// The right to buy.
    Call,
    /// The right to sell.
    Put,
}

/// A contract's expiry date as written in its ticker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Expiry {
    /// Four-digit year (the ticker's two digits are read as 20YY).
    pub year: u16,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month, checked against the month's length.
    pub day: u8,
}

/// An option ticker split into its parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptionTicker<'a> {
    /// The root symbol, borrowed from the ticker (`NVDA`, `SPXW`, `AMC1`).
    pub underlying: &'a str,
    /// Expiry date.
    pub expiry: Expiry,
    /// Call or put.
    pub right: OptionRight,
    /// Strike price in the contract's currency.
    pub strike: f64,
}

/// Parses a Polygon/Massive option ticker, which must start with `O:`.
pub fn parse(ticker: &str) -> Option<OptionTicker<'_>> {
    parse_body(ticker.strip_prefix(POLYGON_PREFIX)?, false)
}

/// Parses an option ticker without the `O:` prefix, as Alpaca and the OCC
/// write them. The OCC's fixed-width form, whose root is padded with spaces to
/// six characters (`AAPL  240119C00100000`), is accepted too.
pub fn parse_unprefixed(ticker: &str) -> Option<OptionTicker<'_>> {
    parse_body(ticker, true)
}

fn parse_body(body: &str, allow_padding: bool) -> Option<OptionTicker<'_>> {
    let split = body.len().checked_sub(TAIL_LEN)?;
    // `str::get` refuses to cut inside a multibyte character, where indexing
    // would panic.
    let root = body.get(..split)?;
    let tail: &[u8; TAIL_LEN] = body.as_bytes().get(split..)?.try_into().ok()?;
    let root = if allow_padding && root.len() == MAX_ROOT_LEN {
        root.trim_end_matches(' ')
    } else {
        root
    };
    if !is_root(root) {
        return None;
    }
    let [y0, y1, m0, m1, d0, d1, right, strike @ ..] = *tail;
    let year = 2000 + u16::try_from(digits(&[y0, y1])?).ok()?;
    let month = u8::try_from(digits(&[m0, m1])?).ok()?;
    let day = u8::try_from(digits(&[d0, d1])?).ok()?;
    if !crate::calendar::is_valid_date(year.into(), month.into(), day.into()) {
        return None;
    }
    let right = match right {
        b'C' => OptionRight::Call,
        b'P' => OptionRight::Put,
        _ => return None,
    };
    let strike = f64::from(digits(&strike)?) / 1000.0;
    Some(OptionTicker {
        underlying: root,
        expiry: Expiry { year, month, day },
        right,
        strike,
    })
}

/// True for 1 to 6 characters of `[A-Z0-9.]`.
fn is_root(root: &str) -> bool {
    (1..=MAX_ROOT_LEN).contains(&root.len())
        && root
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'.')
}

/// The decimal value of a run of ASCII digits (at most 8, so it fits a `u32`).
fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contract(
        underlying: &str,
        ymd: (u16, u8, u8),
        right: OptionRight,
        strike: f64,
    ) -> OptionTicker<'_> {
        OptionTicker {
            underlying,
            expiry: Expiry {
                year: ymd.0,
                month: ymd.1,
                day: ymd.2,
            },
            right,
            strike,
        }
    }

    #[test]
    fn polygon_tickers_parse_from_the_right() {
        use OptionRight::{Call, Put};
        let cases = [
            (
                "O:NVDA261218C00500000",
                Some(contract("NVDA", (2026, 12, 18), Call, 500.0)),
            ),
            (
                "O:SPXW240315P04150000",
                Some(contract("SPXW", (2024, 3, 15), Put, 4150.0)),
            ),
            (
                "O:AMC1230120C00002500",
                Some(contract("AMC1", (2023, 1, 20), Call, 2.5)),
            ),
            (
                "O:F250117P00012500",
                Some(contract("F", (2025, 1, 17), Put, 12.5)),
            ),
            (
                "O:BRK.B250620C00400000",
                Some(contract("BRK.B", (2025, 6, 20), Call, 400.0)),
            ),
            ("O:GOOGL240229C0010000", None),
            (
                "O:ABCDEF240229C00000001",
                Some(contract("ABCDEF", (2024, 2, 29), Call, 0.001)),
            ),
            ("O:ABCDEFG240119C00100000", None),
            ("O:250229C00100000", None),
            ("O:AAPL250229C00100000", None),
            ("O:AAPL241301C00100000", None),
            ("O:AAPL240100C00100000", None),
            ("O:AAPL240431C00100000", None),
            ("O:AAPL240119X00100000", None),
            ("O:AAPL240119C0010000A", None),
            ("O:AAPL240119C0010000", None),
            ("O:aapl240119C00100000", None),
            ("O:AA-L240119C00100000", None),
            ("NVDA261218C00500000", None),
            ("NVDA", None),
            ("O:", None),
            ("", None),
        ];
        for (ticker, want) in cases {
            assert_eq!(parse(ticker), want, "{ticker}");
        }
    }

    #[test]
    fn unprefixed_tickers_parse_with_or_without_padding() {
        use OptionRight::{Call, Put};
        let cases = [
            (
                "NVDA261218C00500000",
                Some(contract("NVDA", (2026, 12, 18), Call, 500.0)),
            ),
            (
                "AAPL  240119P00100000",
                Some(contract("AAPL", (2024, 1, 19), Put, 100.0)),
            ),
            (
                "F     250117C00012000",
                Some(contract("F", (2025, 1, 17), Call, 12.0)),
            ),
            ("      250117C00012000", None),
            ("AA PL 240119P00100000", None),
            ("O:NVDA261218C00500000", None),
            ("240119P00100000", None),
        ];
        for (ticker, want) in cases {
            assert_eq!(parse_unprefixed(ticker), want, "{ticker}");
        }
    }

    #[test]
    fn hostile_input_never_panics() {
        let valid = "O:NVDA261218C00500000";
        for end in 0..valid.len() {
            assert_eq!(parse(&valid[..end]), None, "{}", &valid[..end]);
            // Dropping leading characters leaves a valid bare ticker while
            // some of the root `NVDA` (at 2..6) is left.
            let root = parse_unprefixed(&valid[end..]).map(|t| t.underlying);
            assert_eq!(root, (2..6).contains(&end).then(|| &valid[end..6]), "{end}");
        }
        let hostile = [
            "O:ÄÄÄ261218C00500000",
            "O:NVDA26121€C0050000",
            "O:€€€€€€€€€€€€€€€€€€€",
            "O:N\u{1F600}261218C00500000",
            "O:NVDA261218C0050000\u{e9}",
            "\u{e9}NVDA261218C00500000",
            "O:NVDA261218C99999999",
            "O:\u{0}\u{0}\u{0}\u{0}261218C00500000",
        ];
        for ticker in hostile {
            let _ = parse(ticker);
            let _ = parse_unprefixed(ticker);
        }
        assert_eq!(
            parse("O:NVDA261218C99999999").map(|t| t.strike),
            Some(99_999.999)
        );
        assert!(parse("O:N\u{1F600}261218C00500000").is_none());
    }
}
