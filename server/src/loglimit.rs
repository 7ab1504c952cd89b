//! One line per accept and per close, as the house style asks, but not
//! under a flood: past [`LINES_PER_SEC`] such lines in a second the rest
//! are counted, and one summary line says how many were left out. A storm
//! of connections then costs a few lines a second instead of a disk.
//!
//! Pure: the caller passes the time (ms) and the line as a closure, built
//! only if it is logged.

/// Accept and close lines logged per second at most.
pub const LINES_PER_SEC: u32 = 20;

/// The log's budget for connection lines.
#[derive(Debug, Default)]
pub struct LogLimit {
    /// Start (ms) of the current second.
    since: u64,
    /// Lines logged in it.
    logged: u32,
    /// Accept lines left out since the last summary.
    accepts: u64,
    /// Close lines left out since the last summary.
    closes: u64,
}

/// Which kind of line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    Accept,
    Close,
}

impl LogLimit {
    /// Logs `line()` at info unless this second's budget is spent.
    pub fn info(&mut self, now: u64, kind: Line, line: impl FnOnce() -> String) {
        self.roll(now);
        if self.logged < LINES_PER_SEC {
            self.logged += 1;
            log::info!("{}", line());
            return;
        }
        match kind {
            Line::Accept => self.accepts += 1,
            Line::Close => self.closes += 1,
        }
    }

    /// Once a second is over: the summary of what it left out, if anything.
    pub fn roll(&mut self, now: u64) {
        if now < self.since + 1000 {
            return;
        }
        if self.accepts + self.closes > 0 {
            log::info!(
                "{} accepts and {} closes not logged since {} ms ago (over {LINES_PER_SEC} lines/s)",
                self.accepts,
                self.closes,
                now - self.since
            );
        }
        *self = LogLimit { since: now, ..LogLimit::default() };
    }

    /// Lines left out and not yet summarised (accepts, closes).
    #[cfg(test)]
    fn left_out(&self) -> (u64, u64) {
        (self.accepts, self.closes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_counted_not_logged_and_the_count_starts_again() {
        let mut l = LogLimit::default();
        let mut built = 0;
        for i in 0..100 {
            let kind = if i % 2 == 0 { Line::Accept } else { Line::Close };
            l.info(10, kind, || {
                built += 1;
                String::from("x")
            });
        }
        assert!(built <= LINES_PER_SEC, "lines left out are not even built");
        assert_eq!(l.left_out(), (40, 40));
        l.roll(999);
        assert_eq!(l.left_out(), (40, 40), "not before the second is over");
        l.roll(1010);
        assert_eq!(l.left_out(), (0, 0));
        l.info(1011, Line::Accept, String::new);
        assert_eq!(l.logged, 1, "a new second, a new budget");
    }
}
