//! Wall-clock formatting of message times in local time: "HH:MM", the day
//! a message belongs to (for day-change lines) and that day in words.
//!
//! Only formatting: timers use `Instant`s passed around by the loops.

use std::time::{SystemTime, UNIX_EPOCH};

const WEEKDAYS: [&str; 7] =
    ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The local broken-down time of a Unix time in milliseconds.
fn local(ts_ms: u64) -> Option<libc::tm> {
    let secs = (ts_ms / 1000) as libc::time_t;
    // SAFETY: localtime_r writes only into the `tm` we own.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&secs, &mut tm).is_null() };
    ok.then_some(tm)
}

/// "HH:MM" in local time of a Unix time in milliseconds.
pub fn hhmm(ts_ms: u64) -> String {
    match local(ts_ms) {
        Some(tm) => format!("{:02}:{:02}", tm.tm_hour, tm.tm_min),
        None => "--:--".into(),
    }
}

/// The local day of `ts_ms` as one comparable number (YYYYMMDD).
pub fn day(ts_ms: u64) -> u32 {
    local(ts_ms).map_or(0, |tm| {
        let y = (tm.tm_year + 1900).max(0) as u32;
        y * 10_000 + (tm.tm_mon as u32 + 1) * 100 + tm.tm_mday as u32
    })
}

/// "Wednesday 2 December 2026" for the local day of `ts_ms`.
pub fn day_words(ts_ms: u64) -> String {
    match local(ts_ms) {
        Some(tm) => format!(
            "{} {} {} {}",
            WEEKDAYS[tm.tm_wday.clamp(0, 6) as usize],
            tm.tm_mday,
            MONTHS[tm.tm_mon.clamp(0, 11) as usize],
            tm.tm_year + 1900
        ),
        None => "an unknown day".into(),
    }
}

/// "YYYY-MM-DD" for the local day of `ts_ms` (line mode, log files).
pub fn iso_day(ts_ms: u64) -> String {
    let d = day(ts_ms);
    format!("{:04}-{:02}-{:02}", d / 10_000, d / 100 % 100, d % 100)
}

/// Milliseconds since the Unix epoch now.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_two_digit_fields() {
        let s = super::hhmm(1_764_300_000_000);
        assert_eq!(s.len(), 5);
        assert_eq!(&s[2..3], ":");
    }

    #[test]
    fn days_compare_and_read() {
        let t = 1_764_300_000_000;
        let next = t + 86_400_000;
        assert!(super::day(next) > super::day(t));
        assert_eq!(super::day(t + 1), super::day(t));
        assert_eq!(super::iso_day(t).len(), 10);
        let w = super::day_words(t);
        assert!(w.ends_with(" 2025") && w.contains("November"), "{w}");
    }
}
