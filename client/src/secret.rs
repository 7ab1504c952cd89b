//! Runs the configured `password_command` (e.g. `pass show banter`) so a
//! password is never typed or stored in clear: the first line of its
//! output is the password.
//!
//! It does not cache the password or decide when it is needed.

use std::process::{Command, Stdio};

/// Runs `cmd` with `sh -c`; the first line of its standard output.
pub fn run(cmd: &str) -> Result<String, String> {
    let out = Command::new("sh")
        .args(["-c", cmd])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run it: {e}"))?;
    if !out.status.success() {
        return Err(format!("it failed ({})", out.status));
    }
    let text = String::from_utf8(out.stdout).map_err(|_| "its output is not UTF-8".to_string())?;
    let pw = text.lines().next().unwrap_or("").to_string();
    if pw.is_empty() {
        return Err("it printed no password".into());
    }
    Ok(pw)
}

#[cfg(test)]
mod tests {
    #[test]
    fn first_line_of_the_output() {
        assert_eq!(super::run("printf 'se cret\\nsecond\\n'"), Ok("se cret".to_string()));
        assert!(super::run("exit 3").unwrap_err().contains("failed"));
        assert!(super::run("true").unwrap_err().contains("no password"));
    }
}
