//! The business calendar. Instants are kept in UTC; which day, month and budget year an
//! instant belongs to follows the configured offset (`business_utc_offset`, China time by
//! default), so an acceptance at 07:00 on 1 January in Beijing counts in the new year and
//! "today" turns at local midnight. Set once at start-up ([`set_offset`]); a process serves one
//! calendar.
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, Offset, TimeZone, Utc};
use std::sync::atomic::{AtomicI32, Ordering};

static OFFSET_SECS: AtomicI32 = AtomicI32::new(8 * 3600);

/// Makes `offset` the calendar of this process (called when the state is built).
pub fn set_offset(offset: FixedOffset) {
    OFFSET_SECS.store(offset.local_minus_utc(), Ordering::Relaxed);
}

pub fn offset() -> FixedOffset {
    let secs = OFFSET_SECS.load(Ordering::Relaxed);
    FixedOffset::east_opt(secs).unwrap_or(Utc.fix())
}

/// Seconds east of UTC (for SQL that takes the day of a stored instant).
pub fn offset_secs() -> i32 {
    offset().local_minus_utc()
}

/// The business day `at` falls on.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&offset()).date_naive()
}

/// Today in the business calendar.
pub fn today() -> NaiveDate {
    local_date(Utc::now())
}

/// The budget year and month (1-12) `at` falls in.
pub fn year_month(at: DateTime<Utc>) -> (i32, u32) {
    let d = local_date(at);
    (d.year(), d.month())
}

/// The budget year `at` falls in.
pub fn year(at: DateTime<Utc>) -> i32 {
    local_date(at).year()
}

/// The instant the business day `day` starts (its local midnight), in UTC; `None` only at
/// the edge of the representable dates.
pub fn start_of(day: NaiveDate) -> Option<DateTime<Utc>> {
    offset()
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// The instant of January 1st of `year`, local midnight.
pub fn start_of_year(year: i32) -> Option<DateTime<Utc>> {
    NaiveDate::from_ymd_opt(year, 1, 1).and_then(start_of)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_time_turns_the_year_eight_hours_before_utc() {
        set_offset(FixedOffset::east_opt(8 * 3600).unwrap_or(Utc.fix())); // ok: constant
        let at = Utc.with_ymd_and_hms(2026, 12, 31, 16, 30, 0).single();
        let at = at.unwrap_or_default(); // ok: constant date
        assert_eq!(year_month(at), (2027, 1));
        let start = start_of_year(2027).unwrap_or_default(); // ok: constant date
        assert_eq!(
            start,
            Utc.with_ymd_and_hms(2026, 12, 31, 16, 0, 0)
                .single()
                .unwrap_or_default()
        );
        assert_eq!(
            local_date(start),
            NaiveDate::from_ymd_opt(2027, 1, 1).unwrap_or_default()
        );
    }
}
