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
    use super::*;

    /// The local "HH:MM" of `ts_ms` worked out from the zone's UTC offset
    /// alone, without the code under test's formatting.
    fn expected_hhmm(ts_ms: u64) -> String {
        let off = local(ts_ms).expect("a representable time").tm_gmtoff;
        let secs = (ts_ms / 1000) as i64 + off;
        let (h, m) = (secs.div_euclid(3600).rem_euclid(24), secs.div_euclid(60).rem_euclid(60));
        format!("{h:02}:{m:02}")
    }

    #[test]
    fn hhmm_is_the_local_wall_clock() {
        // 2025-11-28 03:20:00 UTC, then minutes and hours later.
        let t = 1_764_300_000_000;
        for later in [0, 60_000, 37 * 60_000, 9 * 3_600_000 + 59_999, 23 * 3_600_000] {
            assert_eq!(hhmm(t + later), expected_hhmm(t + later), "{later} ms later");
        }
        assert_ne!(hhmm(t), hhmm(t + 60_000), "a minute later reads differently");
        assert_eq!(hhmm(t), hhmm(t + 59_999), "within the same minute");
    }

    #[test]
    fn days_compare_and_read() {
        let t = 1_764_300_000_000;
        let next = t + 86_400_000;
        assert!(day(next) > day(t));
        assert_eq!(day(t + 1), day(t));
        let d = day(t);
        assert_eq!(iso_day(t), format!("{:04}-{:02}-{:02}", d / 10_000, d / 100 % 100, d % 100));
        assert!((20251127..=20251128).contains(&d), "28 Nov 03:20 UTC is the 27th or 28th: {d}");
        let w = day_words(t);
        assert!(w.ends_with(" 2025") && w.contains("November"), "{w}");
        assert!(w.starts_with("Thursday 27 ") || w.starts_with("Friday 28 "), "{w}");
    }
}
