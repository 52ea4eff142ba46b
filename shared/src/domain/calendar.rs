//! The civil calendar (UTC), for dates in messages, renewals and invoices.

/// The civil date (year, month, day) of a count of days since 1970-01-01 (H. Hinnant's
/// algorithm).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Days since 1970-01-01 of a civil date (the inverse of [`civil_from_days`]).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `timestamp` plus `months` calendar months, at the same time of day; the day of month is
/// kept, or the month's last day when it has fewer (31 January + 1 month = 28 or 29 February).
pub fn add_months(timestamp: i64, months: i64) -> i64 {
    let (year, month, day) = civil_from_days(timestamp.div_euclid(86400));
    let index = year * 12 + (month - 1) + months;
    let (y, m) = (index.div_euclid(12), index.rem_euclid(12) + 1);
    let last =
        days_from_civil(if m == 12 { y + 1 } else { y }, if m == 12 { 1 } else { m + 1 }, 1) - days_from_civil(y, m, 1);
    days_from_civil(y, m, day.min(last)) * 86400 + timestamp.rem_euclid(86400)
}

/// The UTC day of a unix time, `YYYY-MM-DD`.
pub fn utc_day(timestamp: i64) -> String {
    utc(timestamp)[..10].to_owned()
}

/// A unix time as `YYYY-MM-DD HH:MM` (UTC), for messages.
pub fn utc(timestamp: i64) -> String {
    let seconds = timestamp.rem_euclid(86400);
    let (year, month, day) = civil_from_days(timestamp.div_euclid(86400));
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}", seconds / 3600, seconds % 3600 / 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn months_are_added_on_the_calendar() {
        use super::{add_months, civil_from_days, days_from_civil};
        let at = |y, m, d| days_from_civil(y, m, d) * 86400 + 3600;
        assert_eq!(add_months(at(2026, 11, 22), 12), at(2027, 11, 22));
        assert_eq!(add_months(at(2027, 1, 31), 1), at(2027, 2, 28));
        assert_eq!(add_months(at(2028, 1, 31), 1), at(2028, 2, 29));
        assert_eq!(add_months(at(2026, 12, 15), 36), at(2029, 12, 15));
        for days in [-1000, 0, 19_000, 20_500] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn utc_formats_dates() {
        assert_eq!(super::utc(0), "1970-01-01 00:00");
        assert_eq!(super::utc(1_795_000_000), "2026-11-18 11:06");
        assert_eq!(super::utc(951_782_400), "2000-02-29 00:00");
    }
}
