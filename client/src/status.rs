//! The status bar text: connection state (with the reconnect countdown),
//! the room, member count, lag, who is typing, unsent messages and the
//! rooms with unread messages.
//!
//! Pure: the caller passes `now` and the pieces; it draws nothing.

use crate::reconnect::Phase;
use crate::sanitize::sanitize_line;
use std::time::{Duration, Instant};

/// The pieces the status bar shows.
pub struct StatusInfo<'a> {
    /// Connection phase.
    pub phase: Phase,
    /// Reconnect attempt limit (0: forever).
    pub max: u32,
    /// Last PING round trip.
    pub lag: Option<Duration>,
    /// The room shown.
    pub room: Option<&'a str>,
    /// Its member count.
    pub members: u32,
    /// Who types there.
    pub typing: Vec<&'a str>,
    /// Our messages not yet acknowledged.
    pub unsent: usize,
    /// Rooms with unread messages and how many.
    pub unread: Vec<(String, usize)>,
}

/// The connection state as words.
pub fn phase_text(phase: Phase, max: u32, now: Instant) -> String {
    let of = |k: u32| {
        if max == 0 {
            format!("attempt {k}")
        } else {
            format!("attempt {k} of {max}")
        }
    };
    match phase {
        Phase::Idle => "not connected".into(),
        Phase::Connecting { attempt: 0 } => "connecting".into(),
        Phase::Connecting { attempt } => format!("reconnecting, {}", of(attempt)),
        Phase::Connected => "connected".into(),
        Phase::Waiting { until, attempt } => {
            let ms = until.saturating_duration_since(now).as_millis();
            let secs = ms.div_ceil(1000);
            format!("reconnecting in {secs} s, {} (Ctrl-R: now)", of(attempt))
        }
        Phase::Offline => "offline (Ctrl-R: retry)".into(),
    }
}

/// The whole status line.
pub fn status_text(s: &StatusInfo, now: Instant) -> String {
    let mut parts = vec![format!(" {}", phase_text(s.phase, s.max, now))];
    if let Some(r) = s.room {
        parts.push(format!("#{}", sanitize_line(r)));
        parts.push(format!("{} members", s.members));
    }
    if let (Phase::Connected, Some(l)) = (s.phase, s.lag) {
        parts.push(format!("lag {} ms", l.as_millis()));
    }
    if s.unsent > 0 {
        parts.push(format!("{} unsent", s.unsent));
    }
    match s.typing.len() {
        0 => {}
        1 => parts.push(format!("{} is typing", sanitize_line(s.typing[0]))),
        _ => {
            let names: Vec<String> = s.typing.iter().map(|n| sanitize_line(n)).collect();
            parts.push(format!("{} are typing", names.join(", ")));
        }
    }
    if !s.unread.is_empty() {
        let list: Vec<String> =
            s.unread.iter().map(|(r, n)| format!("{} ({n})", sanitize_line(r))).collect();
        parts.push(format!("unread: {}", list.join(", ")));
    }
    parts.join(" | ")
}

/// When the status text changes by itself (the countdown), if it does.
pub fn next_tick(phase: Phase, now: Instant) -> Option<Instant> {
    match phase {
        Phase::Waiting { until, .. } => {
            let left = until.saturating_duration_since(now);
            let frac = Duration::from_millis((left.as_millis() % 1000) as u64);
            Some(now + if frac.is_zero() { Duration::from_secs(1) } else { frac })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(phase: Phase) -> StatusInfo<'static> {
        StatusInfo {
            phase,
            max: 3,
            lag: Some(Duration::from_millis(4)),
            room: Some("lobby"),
            members: 3,
            typing: vec!["bob"],
            unsent: 0,
            unread: vec![("dev".into(), 2)],
        }
    }

    #[test]
    fn connected_line() {
        let t = status_text(&info(Phase::Connected), Instant::now());
        assert_eq!(
            t,
            " connected | #lobby | 3 members | lag 4 ms | bob is typing | unread: dev (2)"
        );
    }

    #[test]
    fn reconnect_countdown() {
        let now = Instant::now();
        let p = Phase::Waiting { until: now + Duration::from_millis(2300), attempt: 2 };
        let t = status_text(&info(p), now);
        assert!(t.starts_with(" reconnecting in 3 s, attempt 2 of 3"), "{t}");
        assert!(!t.contains("lag"), "no lag while disconnected");
        assert_eq!(next_tick(p, now), Some(now + Duration::from_millis(300)));
        assert_eq!(next_tick(Phase::Connected, now), None);
        assert_eq!(phase_text(Phase::Offline, 3, now), "offline (Ctrl-R: retry)");
        assert_eq!(phase_text(Phase::Connecting { attempt: 1 }, 0, now), "reconnecting, attempt 1");
    }
}
