//! Wall-clock formatting of message times as local "HH:MM".
//!
//! Only formatting: timers use `Instant`s passed around by the loops.

use std::time::{SystemTime, UNIX_EPOCH};

/// "HH:MM" in local time of a Unix time in milliseconds.
pub fn hhmm(ts_ms: u64) -> String {
    let secs = (ts_ms / 1000) as libc::time_t;
    // SAFETY: localtime_r writes only into the `tm` we own.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&secs, &mut tm).is_null() };
    if !ok {
        return "--:--".into();
    }
    format!("{:02}:{:02}", tm.tm_hour, tm.tm_min)
}

/// "HH:MM" now.
pub fn now_hhmm() -> String {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    hhmm(ms)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_two_digit_fields() {
        let s = super::hhmm(1_764_300_000_000);
        assert_eq!(s.len(), 5);
        assert_eq!(&s[2..3], ":");
    }
}
