//! Unit tests of the config file format.

use super::*;

#[test]
fn every_key() {
    let text = r#"
# my banter
host = "chat.example.org"   # the server
port = 4000
name = "ada"
rooms = ["lobby", "dev"]
reconnect_attempts = 0
password_command = "pass show banter # not a comment"
tls = true
ca = "/etc/ca.pem"
joins = false
bell = false
log_dir = "~/banter-logs"
"#;
    let c = parse(text).unwrap();
    assert_eq!(c.host.as_deref(), Some("chat.example.org"));
    assert_eq!(c.port, Some(4000));
    assert_eq!(c.rooms, Some(vec!["lobby".to_string(), "dev".to_string()]));
    assert_eq!(c.reconnect_attempts, Some(0));
    assert_eq!(c.password_command.as_deref(), Some("pass show banter # not a comment"));
    assert_eq!((c.tls, c.ca.as_deref()), (Some(true), Some("/etc/ca.pem")));
    assert_eq!((c.joins, c.bell), (Some(false), Some(false)));
    assert_eq!(c.log_dir.as_deref(), Some("~/banter-logs"));
    assert_eq!(parse("").unwrap(), Config::default());
}

#[test]
fn mistakes_name_the_line() {
    for (text, line) in [
        ("port = \"x\"", "1: port"),
        ("\nhost = chat", "2: host"),
        ("colour = true", "1: colour: unknown key"),
        ("port = 0", "1: port"),
        ("port = 70000", "1: port"),
        ("tls = yes", "1: tls"),
        ("just words", "1: expected key = value"),
        ("name = \"a\\nb\"", "1: name: unsupported escape"),
    ] {
        let e = parse(text).expect_err(text);
        assert!(e.starts_with(line), "{text:?}: {e}");
    }
}

#[test]
fn locations_and_missing_files() {
    let p = default_path(Some("/x"), Some("/home/a")).unwrap();
    assert_eq!(p, Path::new("/x/banter/config.toml"));
    let p = default_path(None, Some("/home/a")).unwrap();
    assert_eq!(p, Path::new("/home/a/.config/banter/config.toml"));
    assert_eq!(default_path(Some(""), None), None);
    let missing = Path::new("/nonexistent/banter.toml");
    assert_eq!(load(missing, false), Ok(Config::default()));
    assert!(load(missing, true).unwrap_err().contains("/nonexistent/banter.toml"));
}
