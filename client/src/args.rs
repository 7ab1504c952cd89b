//! The command line of `banter` (spec §6): parsing and the `--help` text.
//!
//! It only turns arguments into [`Args`]; it neither connects nor checks that
//! the host exists. A bad flag is an `Err` with a one-line message.

use getopts::Options;

/// Everything the command line decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// Server host name or address.
    pub host: String,
    /// Server TCP port.
    pub port: u16,
    /// User name; `None`: ask for it.
    pub name: Option<String>,
    /// The room joined at start.
    pub room: String,
    /// Reconnect attempts after a lost connection before going offline (0: forever).
    pub reconnect_attempts: u32,
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Run the client.
    Run(Args),
    /// Print this text (help or version) and exit 0.
    Print(String),
}

const LINE_MODE_HELP: &str = "\
Line mode (when stdin or stdout is not a terminal): each input line is a
message to the current room, or a command (/join, /go, /leave, /who,
/history, /register, /quit; '//text' sends '/text'). When --name is absent the
first line is the name; when the server wants the name's password, the
next line is the password. Each event is one sanitised line on stdout:
  [room] <name> text          a message (yours once acknowledged)
  * name joined|left room     presence (quit: '* name quit room: reason', lost)
  = ...                       your own state (connected, joined, members, ...)
  - text                      a notice from the server
  ! ...                       an error (a refused message, a bad command)
A newline inside a message is shown as U+240A. At end of input the client
waits for every message to be acknowledged, quits, and exits 0; it exits 1
if any message was not acknowledged.";

fn options() -> Options {
    let mut o = Options::new();
    o.optopt("", "host", "server host (default 127.0.0.1)", "H");
    o.optopt("", "port", "server port (env PORT, default 3000)", "N");
    o.optopt("", "name", "user name (asked for when absent)", "NAME");
    o.optopt("", "room", "room to join first (default lobby)", "ROOM");
    o.optopt("", "reconnect-attempts", "before going offline (default 3; 0: forever)", "N");
    o.optflag("h", "help", "print this help");
    o.optflag("V", "version", "print the version");
    o
}

/// Parses `argv` (without the program name); `env_port` is `$PORT`.
pub fn parse(argv: &[String], env_port: Option<&str>) -> Result<Parsed, String> {
    let o = options();
    let m = o.parse(argv).map_err(|e| e.to_string())?;
    if m.opt_present("help") {
        let brief = "Usage: banter [options]\nBanter terminal chat client.";
        return Ok(Parsed::Print(format!("{}\n{LINE_MODE_HELP}", o.usage(brief))));
    }
    if m.opt_present("version") {
        return Ok(Parsed::Print(format!("banter {}", env!("CARGO_PKG_VERSION"))));
    }
    if let Some(extra) = m.free.first() {
        return Err(format!("unexpected argument {extra:?}"));
    }
    let port = match m.opt_str("port").as_deref().or(env_port) {
        Some(p) => parse_num::<u16>("port", p).and_then(nonzero_port)?,
        None => 3000,
    };
    let name = m.opt_str("name");
    if let Some(n) = &name {
        check_name("name", n)?;
    }
    let room = m.opt_str("room").unwrap_or_else(|| "lobby".into());
    check_name("room", &room)?;
    let reconnect_attempts = match m.opt_str("reconnect-attempts") {
        Some(v) => parse_num::<u32>("reconnect-attempts", &v)?,
        None => 3,
    };
    let host = m.opt_str("host").unwrap_or_else(|| "127.0.0.1".into());
    Ok(Parsed::Run(Args { host, port, name, room: room.to_ascii_lowercase(), reconnect_attempts }))
}

fn parse_num<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.parse().map_err(|_| format!("--{flag}: {v:?} is not a valid number"))
}

fn nonzero_port(p: u16) -> Result<u16, String> {
    if p == 0 {
        return Err("--port: 0 is not a port a client can connect to".into());
    }
    Ok(p)
}

fn check_name(flag: &str, v: &str) -> Result<(), String> {
    if banter_proto::validate::is_valid_name(v) {
        return Ok(());
    }
    Err(format!(
        "--{flag}: {v:?} is not a valid name (1-32 of A-Z a-z 0-9 _ . -, starting with a letter or digit)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str], env: Option<&str>) -> Result<Parsed, String> {
        let v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse(&v, env)
    }

    fn run(args: &[&str], env: Option<&str>) -> Args {
        match p(args, env) {
            Ok(Parsed::Run(a)) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let a = run(&[], None);
        assert_eq!((a.host.as_str(), a.port, a.room.as_str()), ("127.0.0.1", 3000, "lobby"));
        assert_eq!((a.name, a.reconnect_attempts), (None, 3));
    }

    #[test]
    fn flags_and_env() {
        assert_eq!(run(&[], Some("4000")).port, 4000);
        assert_eq!(run(&["--port", "5"], Some("4000")).port, 5);
        let a = run(&["--name", "ada", "--room", "Dev", "--reconnect-attempts", "0"], None);
        assert_eq!(a.name.as_deref(), Some("ada"));
        assert_eq!((a.room.as_str(), a.reconnect_attempts), ("dev", 0));
    }

    #[test]
    fn bad_flags_are_one_line_errors() {
        for bad in [
            &["--port", "x"][..],
            &["--port", "70000"],
            &["--port", "0"],
            &["--bogus"],
            &["--name", "a b"],
            &["--room", "#x"],
            &["--reconnect-attempts", "-1"],
            &["stray"],
        ] {
            let e = p(bad, None).expect_err("must fail");
            assert!(!e.contains('\n'), "{e}");
        }
        assert!(p(&[], Some("nope")).is_err());
    }

    #[test]
    fn help_and_version() {
        assert!(
            matches!(p(&["--help"], None), Ok(Parsed::Print(s)) if s.contains("--reconnect-attempts"))
        );
        assert!(
            matches!(p(&["--version"], None), Ok(Parsed::Print(s)) if s.starts_with("banter "))
        );
    }
}
