//! Proleptic Gregorian calendar arithmetic shared by every parser of dates
//! (RFC 3339 timestamps, OCC option expiries).

/// The number of days in `month` (1 to 12) of `year`; 31 for a month out of
/// range, so callers check the month first.
pub fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// True for a Gregorian leap year: every fourth year, except centuries not
/// divisible by 400.
pub fn is_leap_year(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

/// True if `day` of `month` exists in `year`.
pub fn is_valid_date(year: u32, month: u32, day: u32) -> bool {
    (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
}

/// Days from 1970-01-01 to the given date (negative before it), by the
/// days-from-civil algorithm: years start in March so that the leap day is
/// last, and 400-year eras repeat exactly.
pub fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let m = i64::from(month);
    let day_of_year = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_from_civil_counts_from_the_unix_epoch() {
        let table = [
            (1970, 1, 1, 0),
            (1970, 1, 2, 1),
            (1969, 12, 31, -1),
            (2000, 3, 1, 11_017),
            (2026, 1, 1, 20_454),
            (2026, 12, 18, 20_805),
            (2024, 2, 29, 19_782),
        ];
        for (y, m, d, days) in table {
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn month_lengths_follow_the_gregorian_rules() {
        let table = [
            (2024, 2, 29),
            (2026, 2, 28),
            (1900, 2, 28),
            (2000, 2, 29),
            (2026, 4, 30),
            (2026, 6, 30),
            (2026, 9, 30),
            (2026, 11, 30),
            (2026, 1, 31),
            (2026, 12, 31),
        ];
        for (year, month, days) in table {
            assert_eq!(days_in_month(year, month), days, "{year}-{month}");
        }
    }

    #[test]
    fn valid_dates() {
        assert!(is_valid_date(2024, 2, 29));
        assert!(!is_valid_date(2026, 2, 29));
        assert!(!is_valid_date(2026, 13, 1));
        assert!(!is_valid_date(2026, 0, 1));
        assert!(!is_valid_date(2026, 1, 0));
        assert!(is_valid_date(2026, 12, 31));
    }
}
