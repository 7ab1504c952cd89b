//! The one-line text of each event in line mode (documented in `--help`):
//! messages carry their room and time, replayed history is marked with
//! `~`, actions read "* name text", shared files "[file N] <name> NAME
//! (SIZE, TYPE)" (the marker where no text can put it), and the receipts
//! of our own direct messages read "= delivered [@bob] #5 text" and
//! "= read [@bob] #5 text".
//!
//! Every piece coming from the network is sanitised here; nothing else is
//! printed by line mode without going through `sanitize_line`.

use crate::apply::members;
use crate::clock::hhmm;
use crate::net::Net;
use crate::reconnect::Phase;
use crate::sanitize::sanitize_line as s;
use crate::session::{Event, Shared};
use crate::transfer::names::{describe, human_size};

/// "[room] HH:MM <name> text", "* name text" for actions, "~" for
/// replays, "[file N] <name> NAME (SIZE, TYPE)" for a shared file.
fn message(
    room: &str,
    ts: u64,
    from: &str,
    text: &str,
    how: (bool, bool, Option<&Shared>),
) -> String {
    let (action, replay, file) = how;
    let mark = if replay { "~ " } else { "" };
    let (room, from) = (s(room), s(from));
    if let Some(f) = file {
        let what = s(&describe(text, f.file.size, &f.file.mime));
        return format!("[{room}] {} {mark}[file {}] <{from}> {what}", hhmm(ts), f.n);
    }
    let text = s(text);
    match action {
        true => format!("[{room}] {} {mark}* {from} {text}", hhmm(ts)),
        false => format!("[{room}] {} {mark}<{from}> {text}", hhmm(ts)),
    }
}

/// The line for `e`, or `None` for events line mode does not show (typing).
pub fn format_event(e: &Event, net: &Net) -> Option<String> {
    Some(match e {
        Event::Msg { room, ts, from, text, action, replay, file, .. } => {
            message(room, *ts, from, text, (*action, *replay, file.as_ref()))
        }
        Event::Acked { room, ts, text, action, .. } => {
            message(room, *ts, &net.session.name, text, (*action, false, None))
        }
        Event::SayFailed { seq, room, code, detail } => {
            let (room, detail) = (s(room), s(detail));
            format!("! not sent [{room}] #{seq}: {code}: {detail} (/resend retries)")
        }
        Event::Joined { room, members: n, .. } => {
            format!("= joined {} ({})", s(room), members(*n))
        }
        Event::JoinFailed { code, detail, .. } => format!("! {code}: {}", s(detail)),
        Event::Unread { room, count, .. } => format!("= unread [{}] {count}", s(room)),
        Event::Left { room } => format!("= left {}", s(room)),
        Event::Roster { room, names } => {
            let names: Vec<String> = names.iter().map(|n| s(n)).collect();
            format!("= members of {}: {}", s(room), names.join(", "))
        }
        Event::Presence { room, name, what, reason } => presence(room, name, what, reason),
        Event::HistoryEnd { room, count, more } => {
            let more = if *more { ", older ones exist" } else { "" };
            format!("= history of {}: {count} messages{more}", s(room))
        }
        other => return format_status(other, net),
    })
}

/// Lines about the connection and the server.
fn format_status(e: &Event, net: &Net) -> Option<String> {
    Some(match e {
        Event::Welcome { name, resumed: true } => format!("= resumed as {}", s(name)),
        Event::Welcome { name, .. } => {
            format!("= connected to {} as {}", s(&net.server()), s(name))
        }
        Event::Notice(t) => format!("- {}", s(t)),
        Event::Registered(n) => format!("= registered {}", s(n)),
        Event::UploadFailed { room, name, why, .. } => {
            format!("! not sent [{}] {}: {}", s(room), s(name), s(why))
        }
        Event::Saved { n, path, size } => {
            format!("= saved [file {n}] {} ({})", s(path), human_size(*size))
        }
        Event::SaveFailed { n, name, why } => {
            format!("! not saved [file {n}] {}: {}", s(name), s(why))
        }
        Event::Resuming { upload, name, done, size } => {
            let (what, at) = (if *upload { "upload" } else { "download" }, human_size(*done));
            format!("= resuming {what} {} at {at} of {}", s(name), human_size(*size))
        }
        Event::Error { code, detail } => format!("! {code}: {}", s(detail)),
        Event::Connecting { attempt } if *attempt > 0 => {
            format!("= reconnecting (attempt {attempt}{})", of_max(net))
        }
        Event::Lost { server, reason } => lost(server, reason, net),
        Event::NameRefused { code, password_sent: false, .. } if code.starts_with("AUTH_") => {
            format!("= {} needs its password", s(&net.session.name))
        }
        Event::NameRefused { code, detail, .. } => format!("! {code}: {}", s(detail)),
        Event::Offline { server, reason } => {
            format!("! offline: no connection to {}: {}", s(server), s(reason))
        }
        _ => return None,
    })
}

/// "= delivered [@bob] #5 text" (or "read"): one of our messages moved on.
pub fn receipt(state: &str, room: &str, id: u64, text: &str) -> String {
    format!("= {state} [{}] #{id} {}", s(room), s(text))
}

fn presence(room: &str, name: &str, what: &str, reason: &str) -> String {
    match (what, reason.is_empty()) {
        ("quit", false) => format!("* {} quit {}: {}", s(name), s(room), s(reason)),
        _ => format!("* {} {what} {}", s(name), s(room)),
    }
}

fn of_max(net: &Net) -> String {
    match net.rc.max() {
        0 => String::new(),
        m => format!(" of {m}"),
    }
}

fn lost(server: &str, reason: &str, net: &Net) -> String {
    let (server, reason) = (s(server), s(reason));
    match net.rc.phase() {
        Phase::Waiting { until, attempt } => {
            let ms = until.saturating_duration_since(std::time::Instant::now()).as_millis();
            format!(
                "= connection lost: {server}: {reason}; retrying in {ms} ms (attempt {attempt}{})",
                of_max(net)
            )
        }
        _ => format!("= connection lost: {server}: {reason}"),
    }
}
