//! The config file: `$XDG_CONFIG_HOME/banter/config.toml` (or
//! `~/.config/banter/config.toml`, or `--config PATH`), in a small subset
//! of TOML: `key = value` lines with `"strings"`, integers, `true`/`false`
//! and `["lists", "of strings"]`, and `#` comments. Unknown keys and bad
//! values are errors naming the file and line, so a typo is never ignored.
//!
//! It only reads and checks the file; `args` merges it under the flags.

use std::path::{Path, PathBuf};

/// What a config file sets (each `None` when absent).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Config {
    /// Server host.
    pub host: Option<String>,
    /// Server port.
    pub port: Option<u16>,
    /// User name.
    pub name: Option<String>,
    /// Rooms joined at start, the first one shown.
    pub rooms: Option<Vec<String>>,
    /// Reconnect attempts (0: forever).
    pub reconnect_attempts: Option<u32>,
    /// A shell command printing the password (first line of its output).
    pub password_command: Option<String>,
    /// Connect with TLS.
    pub tls: Option<bool>,
    /// A PEM certificate or CA to trust (implies TLS).
    pub ca: Option<String>,
    /// Show joins, parts and quits.
    pub joins: Option<bool>,
    /// Ring the bell on mentions.
    pub bell: Option<bool>,
    /// Directory of per-room log files.
    pub log_dir: Option<String>,
}

/// A parsed value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Str(String),
    Int(u64),
    Bool(bool),
    List(Vec<String>),
}

/// The default location, from `XDG_CONFIG_HOME` or `HOME`.
pub fn default_path(xdg: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
    match (xdg.filter(|x| !x.is_empty()), home.filter(|h| !h.is_empty())) {
        (Some(x), _) => Some(Path::new(x).join("banter/config.toml")),
        (None, Some(h)) => Some(Path::new(h).join(".config/banter/config.toml")),
        (None, None) => None,
    }
}

/// Reads `path`; a missing file is an empty config unless `required`.
pub fn load(path: &Path, required: bool) -> Result<Config, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text).map_err(|e| format!("{}:{e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(Config::default()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// "on"/"off" and friends as a switch.
pub fn switch(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Some(true),
        "off" | "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// Parses the text of a config file; errors start with the line number.
pub fn parse(text: &str) -> Result<Config, String> {
    let mut c = Config::default();
    for (i, raw) in text.lines().enumerate() {
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| format!("{}: expected key = value, got {line:?}", i + 1))?;
        let key = key.trim();
        let v = value_of(value.trim()).map_err(|e| format!("{}: {key}: {e}", i + 1))?;
        set(&mut c, key, v).map_err(|e| format!("{}: {key}: {e}", i + 1))?;
    }
    Ok(c)
}

/// The line without a `#` comment (a `#` inside a string stays).
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, ch) in line.char_indices() {
        match ch {
            '"' => quoted = !quoted,
            '#' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

fn value_of(v: &str) -> Result<Value, String> {
    if let Some(inner) = v.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        let items = inner.split(',').map(str::trim).filter(|s| !s.is_empty());
        return items.map(string).collect::<Result<Vec<_>, _>>().map(Value::List);
    }
    match v {
        "true" => return Ok(Value::Bool(true)),
        "false" => return Ok(Value::Bool(false)),
        _ => {}
    }
    if let Ok(n) = v.parse::<u64>() {
        return Ok(Value::Int(n));
    }
    string(v).map(Value::Str)
}

/// A `"quoted string"` with `\"` and `\\` escapes.
fn string(v: &str) -> Result<String, String> {
    let inner = v
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .ok_or_else(|| format!("{v} is not a \"quoted string\", number, true/false or [list]"))?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => match chars.next() {
                Some(e @ ('"' | '\\')) => out.push(e),
                other => return Err(format!("unsupported escape \\{}", other.unwrap_or(' '))),
            },
            '"' => return Err("a quote inside a string must be written \\\"".into()),
            c => out.push(c),
        }
    }
    Ok(out)
}

fn set(c: &mut Config, key: &str, v: Value) -> Result<(), String> {
    let want = |what: &str| Err(format!("expected {what}"));
    match (key, v) {
        ("host", Value::Str(s)) => c.host = Some(s),
        ("port", Value::Int(n)) => c.port = Some(u16::try_from(n).ok().filter(|p| *p > 0).ok_or("not a port")?),
        ("name", Value::Str(s)) => c.name = Some(s),
        ("rooms", Value::List(l)) => c.rooms = Some(l),
        ("rooms" | "room", Value::Str(s)) => c.rooms = Some(vec![s]),
        ("reconnect_attempts", Value::Int(n)) => c.reconnect_attempts = Some(u32::try_from(n).map_err(|_| "too large")?),
        ("password_command", Value::Str(s)) => c.password_command = Some(s),
        ("tls", Value::Bool(b)) => c.tls = Some(b),
        ("ca", Value::Str(s)) => c.ca = Some(s),
        ("joins", Value::Bool(b)) => c.joins = Some(b),
        ("bell", Value::Bool(b)) => c.bell = Some(b),
        ("log_dir", Value::Str(s)) => c.log_dir = Some(s),
        ("port" | "reconnect_attempts", _) => return want("a number"),
        ("tls" | "joins" | "bell", _) => return want("true or false"),
        ("rooms", _) => return want("a list of room names"),
        ("host" | "name" | "password_command" | "ca" | "log_dir", _) => return want("a \"string\""),
        _ => return Err("unknown key (known: host, port, name, rooms, reconnect_attempts, password_command, tls, ca, joins, bell, log_dir)".into()),
    }
    Ok(())
}

#[cfg(test)]
mod tests;
