//! Carries out a parsed input line against the connection: chat text
//! becomes a numbered SAY, commands become frames. Shared by the terminal UI
//! and line mode, which only differ in how they show the outcome.
//!
//! It does not print; errors come back as one-line explanations.

use crate::commands::{Command, Input};
use crate::net::{Fetching, Net, Sending};
use banter_proto::{ClientFrame, FLAG_ACTION};

/// What running an input line did, for the caller to show.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A SAY numbered `seq` is pending in `room` (`action`: a `/me`).
    Said { seq: u32, room: String, action: bool },
    /// Show window `n` (1-based).
    GoNumber(usize),
    /// Show (None) or change a setting.
    Set(Option<(String, String)>),
    /// List the lines containing this text.
    Search(String),
    /// A request went out; its answer will arrive as events.
    Sent,
    /// The current room changed.
    Switched(String),
    /// These failed SAYs are pending again.
    Resent(Vec<u32>),
    /// The user wants to leave, with this reason.
    Quit(String),
    /// Show the command list.
    Help,
    /// Connect again now.
    Reconnect,
    /// An upload is queued (it starts when the ones before it are done).
    Sending(Sending),
    /// A download is queued.
    Fetching(Fetching),
}

/// Runs `input`; `room` is the current room and may change.
pub fn run(input: Input, net: &mut Net, room: &mut Option<String>) -> Result<Outcome, String> {
    let cmd = match input {
        Input::Say(text) => return say(text, 0, net, room),
        Input::Cmd(c) => c,
    };
    match cmd {
        Command::Me(text) => return say(text, FLAG_ACTION, net, room),
        Command::GoNumber(n) => return Ok(Outcome::GoNumber(n)),
        Command::Set(s) => return Ok(Outcome::Set(s)),
        Command::Search(t) => return Ok(Outcome::Search(t)),
        Command::Quit(r) => return Ok(Outcome::Quit(r)),
        Command::Help => return Ok(Outcome::Help),
        Command::Go(r) => return go(r, net, room),
        Command::Msg(name, text) => return msg(&name, text, net, room),
        Command::Reconnect => return Ok(Outcome::Reconnect),
        Command::Send(path) => {
            let r = target(None, room)?;
            return net.send_file(&path, &r).map(Outcome::Sending);
        }
        Command::Get(n, path) => return net.get_file(n, path.as_deref()).map(Outcome::Fetching),
        Command::Resend => {
            let (seqs, frames) = net.session.resend_failed();
            frames.iter().for_each(|f| net.send(f));
            return Ok(Outcome::Resent(seqs));
        }
        _ => {}
    }
    if !net.online() {
        return Err("not connected; wait for the connection (Ctrl-R retries now)".into());
    }
    let frame = match cmd {
        Command::Join(r) => {
            *room = Some(r.clone());
            net.session.join(&r)
        }
        Command::Leave(r) => ClientFrame::Leave { room: target(r, room)? },
        Command::Who => ClientFrame::Who { room: target(None, room)? },
        Command::History(n) => net.session.history(&target(None, room)?, n),
        Command::Register(pw) => {
            net.session.registering = Some(pw.clone());
            ClientFrame::Register { password: pw }
        }
        _ => return Err("internal: command not handled".into()),
    };
    net.send(&frame);
    Ok(Outcome::Sent)
}

fn target(explicit: Option<String>, room: &Option<String>) -> Result<String, String> {
    explicit.or_else(|| room.clone()).ok_or_else(|| "not in any room; /join ROOM first".to_string())
}

fn say(text: String, flags: u8, net: &mut Net, room: &Option<String>) -> Result<Outcome, String> {
    if text.trim().is_empty() {
        return Err("nothing to send".into());
    }
    let r = target(None, room)?;
    let (seq, frame) = net.session.say(&r, &text, flags)?;
    if let Some(f) = frame {
        net.send(&f);
    }
    Ok(Outcome::Said { seq, room: r, action: flags & FLAG_ACTION != 0 })
}

/// `/msg NAME [TEXT]`: shows the conversation `@name` (JOINed first, for
/// its history and receipts, unless it is followed already) and says TEXT
/// there.
fn msg(
    name: &str,
    text: Option<String>,
    net: &mut Net,
    room: &mut Option<String>,
) -> Result<Outcome, String> {
    let conv = format!("@{}", name.to_ascii_lowercase());
    let s = &net.session;
    if banter_proto::validate::same_name(name, &s.name) {
        return Err("that is you: /msg someone else".into());
    }
    if !s.is_account() {
        return Err("direct messages are between registered names: \
                    /register PASSWORD, or sign in with your name's password"
            .into());
    }
    let mut outcome = Outcome::Switched(conv.clone());
    if !s.rooms.contains_key(&conv) {
        if !net.online() {
            return Err("not connected; wait for the connection (Ctrl-R retries now)".into());
        }
        let f = net.session.join(&conv);
        net.send(&f);
        outcome = Outcome::Sent;
    }
    *room = Some(conv);
    match text {
        Some(t) => say(t, 0, net, room),
        None => Ok(outcome),
    }
}

fn go(r: String, net: &Net, room: &mut Option<String>) -> Result<Outcome, String> {
    if !net.session.rooms.contains_key(&r) {
        return Err(format!("not in {r}; /join {r} first"));
    }
    *room = Some(r.clone());
    Ok(Outcome::Switched(r))
}
