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

#[cfg(test)]
mod tests {
    use super::*;

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
