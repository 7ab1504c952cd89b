//! The status bar text: connection state (with the reconnect countdown),
//! the room and its member count, the numbered windows with their unread
//! and mention counts, unsent messages, files moving, who is typing and
//! the lag. When
//! the bar is too narrow the least useful parts go first, so the windows
//! with activity stay visible.
//!
//! Pure: the caller passes `now` and the pieces; it draws nothing.

use crate::apply::members;
use crate::reconnect::Phase;
use crate::sanitize::sanitize_line;
use crate::width::str_width;
use std::time::{Duration, Instant};

/// One window (room pane) as the status bar lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Win {
    /// Its number (Alt-N).
    pub n: usize,
    /// The room.
    pub name: String,
    /// Messages not seen.
    pub unread: usize,
    /// Of those, how many name us.
    pub mentions: usize,
    /// Whether it is shown.
    pub current: bool,
}

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
    /// Files moving: "↑ notes.txt 45%".
    pub transfers: Option<String>,
    /// Every window, in order.
    pub windows: Vec<Win>,
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

/// A window as "2:dev(3)", "3:ops(2!)" (mentioned), "[1:lobby]" (shown).
fn win_text(w: &Win) -> String {
    let name = sanitize_line(&w.name);
    let act = match (w.unread, w.mentions) {
        (0, _) => String::new(),
        (u, 0) => format!("({u})"),
        (u, _) => format!("({u}!)"),
    };
    match w.current {
        true => format!("[{}:{name}]", w.n),
        false => format!("{}:{name}{act}", w.n),
    }
}

/// The typing part, if anyone types.
fn typing_text(typing: &[&str]) -> Option<String> {
    let names: Vec<String> = typing.iter().map(|n| sanitize_line(n)).collect();
    match names.len() {
        0 => None,
        1 => Some(format!("{} is typing", names[0])),
        _ => Some(format!("{} are typing", names.join(", "))),
    }
}

/// The whole status line, at most `width` cells when it can be.
pub fn status_text(s: &StatusInfo, now: Instant, width: usize) -> String {
    let phase = format!(" {}", phase_text(s.phase, s.max, now));
    let direct = s.room.is_some_and(|r| r.starts_with('@'));
    let room = s.room.map(|r| match direct {
        true => sanitize_line(r),
        false => format!("#{}", sanitize_line(r)),
    });
    let room_long = match direct {
        true => room.as_ref().map(|r| format!("{r} (private)")),
        false => room.as_ref().map(|r| format!("{r}, {}", members(s.members))),
    };
    let all: Vec<String> = s.windows.iter().map(win_text).collect();
    let all = (s.windows.len() > 1).then(|| all.join(" "));
    let active: Vec<String> = s.windows.iter().filter(|w| w.unread > 0).map(win_text).collect();
    let active = (!active.is_empty()).then(|| format!("act: {}", active.join(" ")));
    let lag = match (s.phase, s.lag) {
        (Phase::Connected, Some(l)) => Some(format!("lag {} ms", l.as_millis())),
        _ => None,
    };
    let unsent = (s.unsent > 0).then(|| format!("{} unsent", s.unsent));
    let typing = typing_text(&s.typing);
    let p = Some(phase);
    let f = &s.transfers;
    let tries = [
        vec![&p, &room_long, &all, &unsent, f, &typing, &lag],
        vec![&p, &room_long, &all, &unsent, f, &typing],
        vec![&p, &room, &all, &unsent, f, &typing],
        vec![&p, &room, &active, &unsent, f, &typing],
        vec![&p, &room, &active, &unsent, f],
        vec![&p, &active, &unsent, f],
    ];
    let join = |parts: &[&Option<String>]| {
        parts.iter().filter_map(|x| x.as_deref()).collect::<Vec<_>>().join(" | ")
    };
    for t in &tries {
        let line = join(t);
        if str_width(&line) <= width {
            return line;
        }
    }
    join(&tries[tries.len() - 1])
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
mod tests;
