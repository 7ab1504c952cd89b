//! The terminal while the full-screen UI runs: raw mode, the alternate
//! screen, bracketed paste and autowrap off (so text the terminal measures
//! wider than we do is clipped at the right edge instead of wrapping or
//! scrolling the screen) on entry; all of it undone on drop, on error and
//! on panic (a panic hook restores the terminal before the message).
//!
//! It writes bytes it is given; what to draw is `render`'s business.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};
use termion::{cursor, screen, style};

/// The terminal settings to restore, saved on entry.
static SAVED: Mutex<Option<libc::termios>> = Mutex::new(None);
/// Whether the terminal is in our mode (so restoring happens once).
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// Installs the panic hook once.
static HOOK: Once = Once::new();

/// Bracketed paste on and autowrap (DECAWM) off; and back.
const MODES_ON: &str = "\x1b[?2004h\x1b[?7l";
const MODES_OFF: &str = "\x1b[?2004l\x1b[?7h";

/// The raw-mode terminal; restored when dropped.
pub struct Terminal {
    /// Standard output, written in one piece per frame.
    out: io::Stdout,
}

impl Terminal {
    /// Enters raw mode and the alternate screen.
    pub fn enter() -> io::Result<Terminal> {
        // SAFETY: tcgetattr/tcsetattr on fd 0 with termios structs we own.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(0, &mut t) } != 0 {
            return Err(io::Error::last_os_error());
        }
        if let Ok(mut s) = SAVED.lock() {
            *s = Some(t);
        }
        let mut raw = t;
        unsafe { libc::cfmakeraw(&mut raw) };
        if unsafe { libc::tcsetattr(0, libc::TCSANOW, &raw) } != 0 {
            return Err(io::Error::last_os_error());
        }
        ACTIVE.store(true, Ordering::SeqCst);
        HOOK.call_once(|| {
            let prev = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                prev(info);
            }));
        });
        let mut term = Terminal { out: io::stdout() };
        term.write(&format!("{}{MODES_ON}", screen::ToAlternateScreen))?;
        Ok(term)
    }

    /// Writes and flushes.
    pub fn write(&mut self, s: &str) -> io::Result<()> {
        let mut lock = self.out.lock();
        lock.write_all(s.as_bytes())?;
        lock.flush()
    }

    /// The size in cells (columns, rows); 80x24 when unknown.
    pub fn size() -> (u16, u16) {
        match termion::terminal_size() {
            Ok((w, h)) if w > 0 && h > 0 => (w, h),
            _ => (80, 24),
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves the alternate screen and raw mode, once; safe from a panic hook.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let bytes = format!("{MODES_OFF}{}{}{}", style::Reset, cursor::Show, screen::ToMainScreen);
    // SAFETY: write(2) of a buffer we own to fd 1; errors are ignored.
    unsafe { libc::write(1, bytes.as_ptr().cast(), bytes.len()) };
    let saved = match SAVED.lock() {
        Ok(s) => *s,
        Err(p) => *p.into_inner(),
    };
    if let Some(t) = saved {
        // SAFETY: restoring the settings read on entry.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) };
    }
}
