//! Parses one input line into a message or a slash command, with a
//! one-line explanation for anything malformed.
//!
//! It checks the shape of arguments (valid room names, numbers, password
//! length) but does not know the session: executing a command is the app's.

use banter_proto::validate::{is_valid_name, is_valid_password_len};

/// What one submitted line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Chat text for the current room.
    Say(String),
    /// A slash command.
    Cmd(Command),
}

/// The slash commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Join(String),
    /// Open the direct conversation with a name (`/msg NAME [TEXT]`),
    /// sending TEXT there if given.
    Msg(String, Option<String>),
    Leave(Option<String>),
    Go(String),
    /// Go to window N (1-based), as Alt-N does.
    GoNumber(usize),
    /// An action: "* me text" (SAY with FLAG_ACTION).
    Me(String),
    /// Show (None) or change a setting.
    Set(Option<(String, String)>),
    /// Print the lines of the current room that contain this text.
    Search(String),
    Who,
    History(u16),
    Register(String),
    Quit(String),
    Help,
    /// Resend every message marked failed.
    Resend,
    /// Reconnect now (as Ctrl-R).
    Reconnect,
    /// Share the file at this path in the current room (§10).
    Send(String),
    /// Save file N (as numbered on screen) into the current directory,
    /// or into PATH (a directory, or a file name in one).
    Get(usize, Option<String>),
}

/// Command names, for Tab completion.
pub const NAMES: &[&str] = &[
    "/join",
    "/msg",
    "/leave",
    "/go",
    "/me",
    "/who",
    "/history",
    "/search",
    "/set",
    "/register",
    "/send",
    "/get",
    "/resend",
    "/quit",
    "/help",
];

/// Commands whose argument is a secret: masked while typed, never kept
/// in the input history.
const SECRET: &[&str] = &["register"];

/// One line per command, for `/help`.
pub const HELP: &[&str] = &[
    "/join ROOM      join (or create) a room and switch to it",
    "/msg NAME [TEXT]  talk privately with NAME (a registered name) in window @name",
    "/leave [ROOM]   leave a room (default: the current one)",
    "/go ROOM|N      switch to a joined room or window N (also Alt-1..9, Alt-0)",
    "/me TEXT        an action: shown as '* yourname TEXT'",
    "/who            list the members of the current room",
    "/history [N]    show N older messages (default 20, at most 1000)",
    "/register PASS  protect your name with a password (8-256 bytes)",
    "/search TEXT    list the lines of this room that contain TEXT",
    "/send PATH      share a file here (registered names; progress in the status bar)",
    "/get N [PATH]   save file N (shown as [file N]) here or into PATH; never overwrites",
    "/set [joins|bell on|off]  show or change a setting",
    "/resend         send again the messages marked failed",
    "/reconnect      connect again now (also Ctrl-R)",
    "/quit [REASON]  leave the chat",
    "keys: PgUp/PgDn scroll, End (at the end of the input) jumps to the newest,",
    "  Alt-1..9/Alt-0 or Ctrl-N/Ctrl-P (Alt-Right/Left) switch windows, Tab completes",
    "  names, rooms and commands, Ctrl-R reconnects now, //text sends /text",
];

/// Where the secret of a line starts (a byte offset), if the line is a
/// command with a secret argument; command names in any case.
pub fn secret_from(line: &str) -> Option<usize> {
    let rest = line.strip_prefix('/')?;
    let end = rest.find(char::is_whitespace)?;
    let name = &rest[..end];
    SECRET.iter().any(|s| s.eq_ignore_ascii_case(name)).then_some(1 + end + 1)
}

/// Parses a submitted line (`//x` is the text `/x`).
pub fn parse(line: &str) -> Result<Input, String> {
    let Some(rest) = line.strip_prefix('/') else {
        return Ok(Input::Say(line.to_string()));
    };
    if rest.starts_with('/') {
        return Ok(Input::Say(rest.to_string()));
    }
    let (name, arg) = match rest.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim()),
        None => (rest, ""),
    };
    command(&name.to_ascii_lowercase(), arg).map(Input::Cmd)
}

fn command(name: &str, arg: &str) -> Result<Command, String> {
    Ok(match name {
        "join" | "j" => Command::Join(room_arg("join", arg)?),
        "msg" | "query" | "q" => msg_arg(name, arg)?,
        "go" | "g" | "window" => match arg.parse::<usize>() {
            Ok(n) if n >= 1 => Command::GoNumber(n),
            _ => Command::Go(room_arg("go", arg)?),
        },
        "me" => match arg {
            "" => return Err("usage: /me TEXT".into()),
            a => Command::Me(a.to_string()),
        },
        "set" => Command::Set(set_arg(arg)?),
        "search" | "lastlog" | "grep" => match arg {
            "" => return Err("usage: /search TEXT".into()),
            a => Command::Search(a.to_string()),
        },
        "leave" | "part" => match arg {
            "" => Command::Leave(None),
            a => Command::Leave(Some(room_arg("leave", a)?)),
        },
        "who" | "names" => no_arg("who", arg, Command::Who)?,
        "history" => Command::History(history_arg(arg)?),
        "register" => match arg {
            a if is_valid_password_len(a) => Command::Register(a.to_string()),
            _ => return Err("usage: /register PASSWORD (8 to 256 bytes)".into()),
        },
        "quit" | "exit" => Command::Quit(arg.to_string()),
        "help" | "?" => Command::Help,
        "resend" => no_arg("resend", arg, Command::Resend)?,
        "reconnect" => no_arg("reconnect", arg, Command::Reconnect)?,
        "send" | "upload" => match unquote(arg) {
            "" => return Err("usage: /send PATH (a file to share in this room)".into()),
            p => Command::Send(p.to_string()),
        },
        "get" | "save" => get_arg(arg)?,
        "" => return Err("empty command; type //text to send text starting with /".into()),
        other => return Err(format!("unknown command /{other}; /help lists the commands")),
    })
}

/// `/msg NAME [TEXT]`: the name (with or without `@`) and the text.
fn msg_arg(cmd: &str, arg: &str) -> Result<Command, String> {
    let (name, text) = match arg.split_once(char::is_whitespace) {
        Some((n, t)) => (n, Some(t.trim_start())),
        None => (arg, None),
    };
    let name = name.strip_prefix('@').unwrap_or(name);
    if name.is_empty() {
        return Err(format!("usage: /{cmd} NAME [TEXT]"));
    }
    if !is_valid_name(name) {
        return Err(format!("/{cmd}: {name:?} is not a valid name (1-32 of A-Z a-z 0-9 _ . -)"));
    }
    let text = text.filter(|t| !t.is_empty()).map(str::to_string);
    Ok(Command::Msg(name.to_string(), text))
}

/// A room, `#room` or a conversation `@name`, in lower case.
fn room_arg(cmd: &str, arg: &str) -> Result<String, String> {
    if let Some(name) = arg.strip_prefix('@') {
        if is_valid_name(name) {
            return Ok(arg.to_ascii_lowercase());
        }
    }
    let room = arg.strip_prefix('#').unwrap_or(arg);
    if room.is_empty() || room.contains(char::is_whitespace) {
        return Err(format!("usage: /{cmd} ROOM"));
    }
    if !is_valid_name(room) {
        return Err(format!(
            "/{cmd}: {room:?} is not a valid room name (1-32 of A-Z a-z 0-9 _ . -)"
        ));
    }
    Ok(room.to_ascii_lowercase())
}

/// `/get N [PATH]`: the file's number and where to save it.
fn get_arg(arg: &str) -> Result<Command, String> {
    let (n, path) = match arg.split_once(char::is_whitespace) {
        Some((n, p)) => (n, Some(unquote(p.trim()))),
        None => (arg, None),
    };
    let n = n.strip_prefix('#').unwrap_or(n);
    match n.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(Command::Get(n, path.filter(|p| !p.is_empty()).map(str::to_string))),
        _ => Err("usage: /get N [PATH], N as shown in [file N]".into()),
    }
}

/// A path as typed or dropped into the terminal: one pair of surrounding
/// quotes (what file managers add to a path with spaces) is taken off.
fn unquote(arg: &str) -> &str {
    let arg = arg.trim();
    for q in ['\'', '"'] {
        if let Some(inner) = arg.strip_prefix(q).and_then(|a| a.strip_suffix(q)) {
            return inner;
        }
    }
    arg
}

fn set_arg(arg: &str) -> Result<Option<(String, String)>, String> {
    if arg.is_empty() {
        return Ok(None);
    }
    let mut it = arg.split_whitespace();
    match (it.next(), it.next(), it.next()) {
        (Some(k), Some(v), None) => Ok(Some((k.to_ascii_lowercase(), v.to_ascii_lowercase()))),
        _ => Err("usage: /set [NAME VALUE], e.g. /set joins off".into()),
    }
}

fn no_arg(cmd: &str, arg: &str, c: Command) -> Result<Command, String> {
    if arg.is_empty() {
        Ok(c)
    } else {
        Err(format!("usage: /{cmd} (no argument)"))
    }
}

fn history_arg(arg: &str) -> Result<u16, String> {
    if arg.is_empty() {
        return Ok(20);
    }
    match arg.parse::<u16>() {
        Ok(n @ 1..=1000) => Ok(n),
        _ => Err(format!("usage: /history [N] with N from 1 to 1000, not {arg:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(s: &str) -> Command {
        match parse(s) {
            Ok(Input::Cmd(c)) => c,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn text_and_escaped_slash() {
        assert_eq!(parse("hi"), Ok(Input::Say("hi".into())));
        assert_eq!(parse("//etc"), Ok(Input::Say("/etc".into())));
    }

    #[test]
    fn commands() {
        assert_eq!(cmd("/join Dev"), Command::Join("dev".into()));
        assert_eq!(cmd("/join #ops"), Command::Join("ops".into()));
        assert_eq!(cmd("/leave"), Command::Leave(None));
        assert_eq!(cmd("/leave x"), Command::Leave(Some("x".into())));
        assert_eq!(cmd("/GO dev"), Command::Go("dev".into()));
        assert_eq!(cmd("/who"), Command::Who);
        assert_eq!(cmd("/history"), Command::History(20));
        assert_eq!(cmd("/history 5"), Command::History(5));
        assert_eq!(cmd("/register longenough"), Command::Register("longenough".into()));
        assert_eq!(cmd("/quit"), Command::Quit(String::new()));
        assert_eq!(cmd("/quit see you"), Command::Quit("see you".into()));
        assert_eq!(cmd("/help"), Command::Help);
        assert_eq!(cmd("/resend"), Command::Resend);
        assert_eq!(cmd("/JOIN Dev"), Command::Join("dev".into()));
        assert_eq!(cmd("/Register longenough"), Command::Register("longenough".into()));
        assert_eq!(cmd("/go 3"), Command::GoNumber(3));
        assert_eq!(cmd("/me waves"), Command::Me("waves".into()));
        assert_eq!(cmd("/set"), Command::Set(None));
        assert_eq!(cmd("/set Joins OFF"), Command::Set(Some(("joins".into(), "off".into()))));
        assert_eq!(cmd("/search deploy"), Command::Search("deploy".into()));
        assert_eq!(cmd("/msg Bob"), Command::Msg("Bob".into(), None));
        assert_eq!(
            cmd("/query @bob  hi  there"),
            Command::Msg("bob".into(), Some("hi  there".into()))
        );
        assert_eq!(cmd("/go @Ada"), Command::Go("@ada".into()));
        assert_eq!(cmd("/join @ada"), Command::Join("@ada".into()));
        assert_eq!(cmd("/send notes.txt"), Command::Send("notes.txt".into()));
        assert_eq!(cmd("/send 'my file.pdf'"), Command::Send("my file.pdf".into()));
        assert_eq!(cmd("/send a b.txt "), Command::Send("a b.txt".into()));
        assert_eq!(cmd("/get 3"), Command::Get(3, None));
        assert_eq!(cmd("/GET #3  \"~/dl dir\" "), Command::Get(3, Some("~/dl dir".into())));
    }

    #[test]
    fn secrets_are_found_in_any_case() {
        assert_eq!(secret_from("/register abc"), Some(10));
        assert_eq!(secret_from("/REGISTER abc"), Some(10));
        assert_eq!(secret_from("/ReGiStEr\tabc"), Some(10));
        assert_eq!(secret_from("/register"), None);
        assert_eq!(secret_from("register abc"), None);
        assert_eq!(secret_from("/join abc"), None);
    }

    #[test]
    fn bad_input_is_a_one_line_explanation() {
        for bad in [
            "/",
            "/nope",
            "/join",
            "/join a b",
            "/join @",
            "/msg",
            "/msg @",
            "/msg b@d hi",
            "/go",
            "/who x",
            "/history 0",
            "/history 1001",
            "/history x",
            "/register short",
            "/resend now",
            "/me",
            "/set joins",
            "/search",
            "/send",
            "/send ''",
            "/get",
            "/get 0",
            "/get x",
            "/get -1 dir",
        ] {
            let e = parse(bad).expect_err(bad);
            assert!(!e.is_empty() && !e.contains('\n'), "{bad}: {e}");
        }
    }
}
