//! RFC-3339 timestamps to Unix milliseconds, without allocating.
//!
//! Alpaca stamps every JSON event with a string such as
//! `2024-07-24T07:56:53.639713735Z`. This runs once per event on the hot path,
//! so it is a hand-written parser of that one fixed grammar: about fifty lines
//! with no allocation and no failure mode but `None`, fuzzed with the decoder.
//! A date crate would add a dependency to do the same work through a general
//! format description, and would still need the range checks below.

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` into Unix milliseconds.
///
/// The fraction may have any number of digits; digits beyond milliseconds are
/// truncated, so an event never appears to happen later than it did. A leap
/// second (`:60`) counts as the first second of the next minute. Returns
/// `None` for anything else, including impossible dates such as February 30.
pub(crate) fn parse_ms(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't') {
        return None;
    }
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if !crate::calendar::is_valid_date(year, month, day) || hour > 23 || minute > 59 || second > 60
    {
        return None;
    }
    let mut rest = &b[19..];
    let mut millis: u32 = 0;
    if let Some((b'.', fraction)) = rest.split_first() {
        let len = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        // Pad or cut the fraction to exactly three digits.
        for i in 0..3 {
            let digit = fraction.get(i).filter(|_| i < len).map_or(0, |c| c - b'0');
            millis = millis * 10 + u32::from(digit);
        }
        rest = &fraction[len..];
    }
    let offset_minutes = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hours = digits(&[*h1, *h2], 0, 2)?;
            let minutes = digits(&[*m1, *m2], 0, 2)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let total = i64::from(hours * 60 + minutes);
            if *sign == b'-' {
                -total
            } else {
                total
            }
        }
        _ => return None,
    };
    let days = days_from_civil(i64::from(year), month, day);
    let seconds =
        days * 86_400 + i64::from(hour * 3_600 + minute * 60 + second) - offset_minutes * 60;
    Some(seconds * 1_000 + i64::from(millis))
}

/// The number in `b[at..at + len]`, if those bytes are all ASCII digits.
fn digits(b: &[u8], at: usize, len: usize) -> Option<u32> {
    b.get(at..at + len)?.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`: years start in March, so the leap day comes last).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_alpaca_sends() {
        let cases = [
            ("2021-02-22T15:51:44.208Z", 1_614_009_104_208),
            ("2024-07-24T07:56:53.639713735Z", 1_721_807_813_639),
            ("2023-04-06T13:15:42.83540958Z", 1_680_786_942_835),
            ("2021-02-22T19:15:00Z", 1_614_021_300_000),
            ("2024-07-24T07:56:00Z", 1_721_807_760_000),
            ("2000-02-29T23:59:59.999Z", 951_868_799_999),
            ("1970-01-01T00:00:00Z", 0),
            ("2024-07-24T09:56:53.639+02:00", 1_721_807_813_639),
            ("2024-07-24T05:56:53.6-02:00", 1_721_807_813_600),
            ("2016-12-31T23:59:60Z", 1_483_228_800_000),
        ];
        for (text, want) in cases {
            assert_eq!(parse_ms(text), Some(want), "{text}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        let cases = [
            "",
            "2021-02-22",
            "2021-02-22T15:51:44",
            "2021-02-22T15:51:44.Z",
            "2021-02-22 15:51:44Z",
            "2021-02-30T15:51:44Z",
            "2023-02-29T00:00:00Z",
            "2021-13-01T00:00:00Z",
            "2021-00-01T00:00:00Z",
            "2021-02-22T24:00:00Z",
            "2021-02-22T15:60:00Z",
            "2021-02-22T15:51:44+2:00",
            "2021-02-22T15:51:44+24:00",
            "2021-02-22T15:51:44Zjunk",
            "+021-02-22T15:51:44Z",
            "2021-02-22T15:51:4éZ",
            "２０２１-02-22T15:51:44Z",
        ];
        for text in cases {
            assert_eq!(parse_ms(text), None, "{text}");
        }
    }
}
