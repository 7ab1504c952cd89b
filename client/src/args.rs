//! The command line of `banter` (spec §6) merged over the config file
//! (`config.rs`): every flag overrides the file, the file overrides the
//! defaults. Also the `--help` text.
//!
//! It only turns arguments into [`Args`]; it neither connects nor checks that
//! the host exists. A bad flag or config line is an `Err` with a one-line
//! message.

use crate::config::{self, Config};
use getopts::Options;
use std::path::PathBuf;

/// Everything the command line and the config file decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// Server host name or address.
    pub host: String,
    /// Server TCP port.
    pub port: u16,
    /// Connect with TLS (`--tls`, implied by `--ca`).
    pub tls: bool,
    /// A PEM certificate or CA to trust besides the system's roots.
    pub ca: Option<PathBuf>,
    /// User name; `None`: ask for it.
    pub name: Option<String>,
    /// Rooms joined at start (at least one); the first is shown.
    pub rooms: Vec<String>,
    /// Reconnect attempts after a lost connection before going offline (0: forever).
    pub reconnect_attempts: u32,
    /// Shell command printing the password, so none is typed or stored.
    pub password_command: Option<String>,
    /// Show joins, parts and quits.
    pub joins: bool,
    /// Ring the terminal bell when a message names us.
    pub bell: bool,
    /// Append each room's messages to `DIR/ROOM.log`.
    pub log_dir: Option<PathBuf>,
}

/// The environment `parse` reads.
#[derive(Debug, Default, Clone)]
pub struct Env {
    /// `$PORT`.
    pub port: Option<String>,
    /// `$XDG_CONFIG_HOME`.
    pub xdg_config_home: Option<String>,
    /// `$HOME`.
    pub home: Option<String>,
}

impl Env {
    /// The process environment.
    pub fn from_process() -> Env {
        let v = |k: &str| std::env::var(k).ok();
        Env { port: v("PORT"), xdg_config_home: v("XDG_CONFIG_HOME"), home: v("HOME") }
    }
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
message to the current room, or a command (/join, /msg, /go, /leave, /me, /who,
/history, /register, /send PATH, /get N [PATH], /set joins on|off, /quit;
'//text' sends '/text'). /send and /get wait for their end before the next
line runs. When --name is absent the first line is the name; when the
server wants the name's password (and no password_command is configured),
the next line is the password, tried once. Each event is one sanitised
line on stdout:
  [room] HH:MM <name> text    a message (yours once acknowledged)
  [room] HH:MM * name text    an action (/me)
  [room] HH:MM ~ <name> text  a message replayed from history
  [@bob] HH:MM <bob> text     a direct message (/msg NAME [TEXT] opens @name)
  [room] HH:MM [file N] <name> FILE (SIZE, TYPE)
                              a shared file; /get N saves it (never over
                              a file, never outside the directory)
  = saved [file N] PATH (SIZE)   a download kept (its SHA-256 checked)
  ! not sent [room] FILE: why, ! not saved [file N] FILE: why
                              an upload or a download that failed
  = unread [@bob] N           at sign-in: N messages from bob wait
  = delivered [@bob] #ID text, then = read [@bob] #ID text
                              receipts of your direct messages of this run
  * name joined|left room     presence (quit: '* name quit room: reason', lost)
  = ...                       your own state (connected, joined, members,
                              sending, fetching, resuming, ...)
  - text                      a notice from the server
  ! ...                       an error (a refused message, a bad command)
A newline inside a message is shown as U+240A; '= day YYYY-MM-DD' comes
before the first message of each day. At end of input the client
waits for every message to be acknowledged, quits, and exits 0; it exits 1
if any message was not acknowledged or any file not sent or saved.

Config file: $XDG_CONFIG_HOME/banter/config.toml (default
~/.config/banter/config.toml), lines of key = value:
  host = \"chat.example.org\"      port = 3000        name = \"ada\"
  rooms = [\"lobby\", \"dev\"]       reconnect_attempts = 3
  password_command = \"pass show banter\"   (its first output line)
  joins = true   bell = true   log_dir = \"~/banter-logs\"
  tls = true     ca = \"/path/ca.pem\"      (as --tls and --ca)
Every flag overrides the file.";

fn options() -> Options {
    let mut o = Options::new();
    o.optopt("", "host", "server host (default 127.0.0.1)", "H");
    o.optopt("", "port", "server port (env PORT, default 3000)", "N");
    o.optflag("", "tls", "connect with TLS, checking the server against the system's roots");
    o.optopt("", "ca", "also trust this PEM certificate or CA (implies --tls)", "PATH");
    o.optopt("", "name", "user name (asked for when absent)", "NAME");
    o.optopt("", "room", "room to join first (default lobby)", "ROOM");
    o.optopt("", "reconnect-attempts", "before going offline (default 3; 0: forever)", "N");
    o.optopt("", "config", "config file (default: see below)", "PATH");
    o.optopt("", "log-dir", "append each room's messages to DIR/ROOM.log", "DIR");
    o.optflag("h", "help", "print this help");
    o.optflag("V", "version", "print the version");
    o
}

/// Parses `argv` (without the program name) over the config file.
pub fn parse(argv: &[String], env: &Env) -> Result<Parsed, String> {
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
    let c = read_config(m.opt_str("config"), env)?;
    merge(&m, env, c).map(Parsed::Run)
}

fn read_config(flag: Option<String>, env: &Env) -> Result<Config, String> {
    let path = match flag {
        Some(p) => return config::load(&PathBuf::from(p), true),
        None => config::default_path(env.xdg_config_home.as_deref(), env.home.as_deref()),
    };
    path.map_or(Ok(Config::default()), |p| config::load(&p, false))
}

fn merge(m: &getopts::Matches, env: &Env, c: Config) -> Result<Args, String> {
    let port = match m.opt_str("port").or(env.port.clone()) {
        Some(p) => parse_num::<u16>("port", &p).and_then(nonzero_port)?,
        None => c.port.unwrap_or(3000),
    };
    let name = m.opt_str("name").or(c.name);
    if let Some(n) = &name {
        check_name("name", n)?;
    }
    let rooms = match m.opt_str("room") {
        Some(r) => vec![r],
        None => c.rooms.filter(|r| !r.is_empty()).unwrap_or_else(|| vec!["lobby".into()]),
    };
    for r in &rooms {
        check_name("room", r)?;
    }
    let reconnect_attempts = match m.opt_str("reconnect-attempts") {
        Some(v) => parse_num::<u32>("reconnect-attempts", &v)?,
        None => c.reconnect_attempts.unwrap_or(3),
    };
    let log_dir = m.opt_str("log-dir").or(c.log_dir).map(|d| home_path(&d, env));
    let ca = m.opt_str("ca").or(c.ca).map(|p| home_path(&p, env));
    Ok(Args {
        host: m.opt_str("host").or(c.host).unwrap_or_else(|| "127.0.0.1".into()),
        port,
        tls: m.opt_present("tls") || c.tls == Some(true) || ca.is_some(),
        ca,
        name,
        rooms: rooms.iter().map(|r| r.to_ascii_lowercase()).collect(),
        reconnect_attempts,
        password_command: c.password_command,
        joins: c.joins.unwrap_or(true),
        bell: c.bell.unwrap_or(true),
        log_dir,
    })
}

/// `~/x` under `$HOME`.
fn home_path(p: &str, env: &Env) -> PathBuf {
    match (p.strip_prefix("~/"), env.home.as_deref()) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(p),
    }
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

    fn p(args: &[&str], port: Option<&str>) -> Result<Parsed, String> {
        let v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let env = Env { port: port.map(str::to_string), ..Env::default() };
        parse(&v, &env)
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
        assert_eq!(
            (a.host.as_str(), a.port, a.rooms.clone()),
            ("127.0.0.1", 3000, vec!["lobby".into()])
        );
        assert_eq!((a.name, a.reconnect_attempts), (None, 3));
        assert_eq!((a.tls, a.ca), (false, None));
        let a = run(&["--tls"], None);
        assert_eq!((a.tls, a.ca), (true, None));
    }

    #[test]
    fn flags_and_env() {
        assert_eq!(run(&[], Some("4000")).port, 4000);
        assert_eq!(run(&["--port", "5"], Some("4000")).port, 5);
        let a = run(&["--name", "ada", "--room", "Dev", "--reconnect-attempts", "0"], None);
        assert_eq!(a.name.as_deref(), Some("ada"));
        assert_eq!((a.rooms.clone(), a.reconnect_attempts), (vec!["dev".into()], 0));
    }

    #[test]
    fn flags_override_the_config_file() {
        let dir = std::env::temp_dir().join(format!("banter-args-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.toml");
        let text = "host = \"h\"\nport = 4000\nname = \"ada\"\nrooms = [\"A\", \"b\"]\n\
                    reconnect_attempts = 7\njoins = false\nlog_dir = \"~/logs\"\n";
        std::fs::write(&path, text).unwrap();
        let cfg = path.to_str().unwrap();
        let env = Env { home: Some("/home/ada".into()), ..Env::default() };
        let run = |extra: &[&str]| {
            let mut v: Vec<String> = vec!["--config".into(), cfg.into()];
            v.extend(extra.iter().map(|s| s.to_string()));
            match parse(&v, &env) {
                Ok(Parsed::Run(a)) => a,
                other => panic!("{other:?}"),
            }
        };
        let a = run(&[]);
        assert_eq!((a.host.as_str(), a.port, a.name.as_deref()), ("h", 4000, Some("ada")));
        assert_eq!(
            (a.rooms.clone(), a.reconnect_attempts, a.joins),
            (vec!["a".into(), "b".into()], 7, false)
        );
        assert_eq!(a.log_dir, Some(PathBuf::from("/home/ada/logs")));
        let a = run(&[
            "--host",
            "x",
            "--port",
            "5",
            "--name",
            "bob",
            "--room",
            "c",
            "--reconnect-attempts",
            "1",
        ]);
        assert_eq!((a.host.as_str(), a.port, a.name.as_deref()), ("x", 5, Some("bob")));
        assert_eq!((a.rooms.clone(), a.reconnect_attempts), (vec!["c".into()], 1));
        std::fs::write(&path, "tls = true\n").unwrap();
        let a = run(&[]);
        assert_eq!((a.tls, a.ca), (true, None));
        std::fs::write(&path, "tls = false\nca = \"~/ca.pem\"\n").unwrap();
        let a = run(&[]);
        assert_eq!(
            (a.tls, a.ca),
            (true, Some(PathBuf::from("/home/ada/ca.pem"))),
            "ca implies tls"
        );
        let a = run(&["--ca", "/x.pem"]);
        assert_eq!((a.tls, a.ca), (true, Some(PathBuf::from("/x.pem"))), "the flag wins");
        std::fs::write(&path, "port = \"x\"\n").unwrap();
        let e = parse(&["--config".to_string(), cfg.into()], &env).unwrap_err();
        assert!(e.contains("c.toml:1: port"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
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
            matches!(p(&["--help"], None), Ok(Parsed::Print(s)) if s.contains("--reconnect-attempts") && s.contains("/get N [PATH]"))
        );
        assert!(
            matches!(p(&["--version"], None), Ok(Parsed::Print(s)) if s.starts_with("banter "))
        );
    }
}
