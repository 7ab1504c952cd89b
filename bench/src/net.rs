//! Operating-system plumbing the engine needs and `std`/`mio` lack: a
//! non-blocking connect from a chosen source address (so tens of thousands
//! of connections do not run out of ephemeral ports), a timerfd for
//! sub-millisecond open-loop pacing, the open-file limit, and the clock.
//!
//! Everything here is thin and Linux-only; the benchmark logic is elsewhere.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Nanoseconds since the harness's clock origin (monotonic; all threads of
/// the process share it, which is what lets a receiver compare stamps).
pub fn now_ns() -> u64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    let origin = *ORIGIN.get_or_init(Instant::now);
    origin.elapsed().as_nanos() as u64
}

/// Raises the soft open-file limit to the hard one; returns the new limit.
pub fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit write/read only the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
    }
    lim.rlim_cur
}

fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

fn sockaddr(a: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: a.port().to_be(),
        sin_addr: libc::in_addr { s_addr: u32::from(*a.ip()).to_be() },
        sin_zero: [0; 8],
    }
}

/// Starts a non-blocking TCP connect to `to`, from `from` (port chosen by
/// the kernel at connect time, so each source address has its own port
/// range). The caller waits for writability and then checks `take_error`.
pub fn connect_from(from: Option<Ipv4Addr>, to: SocketAddr) -> io::Result<mio::net::TcpStream> {
    let SocketAddr::V4(to) = to else {
        return Err(io::Error::other("only IPv4 targets are supported"));
    };
    let flags = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: plain socket calls on a descriptor we own from here on.
    let fd = unsafe { OwnedFd::from_raw_fd(check(libc::socket(libc::AF_INET, flags, 0))?) };
    let raw = fd.as_raw_fd();
    setopt(raw, libc::IPPROTO_TCP, libc::TCP_NODELAY)?;
    if let Some(ip) = from {
        setopt(raw, libc::IPPROTO_IP, libc::IP_BIND_ADDRESS_NO_PORT)?;
        let sa = sockaddr(SocketAddrV4::new(ip, 0));
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        // SAFETY: `sa` is a valid sockaddr_in of `len` bytes.
        check(unsafe { libc::bind(raw, (&sa as *const libc::sockaddr_in).cast(), len) })?;
    }
    let sa = sockaddr(to);
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: as above.
    let rc = unsafe { libc::connect(raw, (&sa as *const libc::sockaddr_in).cast(), len) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(e);
        }
    }
    let std = std::net::TcpStream::from(fd);
    Ok(mio::net::TcpStream::from_std(std))
}

fn setopt(fd: RawFd, level: libc::c_int, opt: libc::c_int) -> io::Result<()> {
    let one: libc::c_int = 1;
    let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `one` outlives the call and is `len` bytes.
    check(unsafe { libc::setsockopt(fd, level, opt, (&one as *const libc::c_int).cast(), len) })?;
    Ok(())
}

/// A one-shot monotonic timer with nanosecond resolution, pollable by mio
/// (epoll's own timeout only has millisecond resolution).
pub struct Timer {
    /// The timerfd.
    fd: OwnedFd,
}

impl Timer {
    /// A disarmed timer.
    pub fn new() -> io::Result<Timer> {
        let flags = libc::TFD_NONBLOCK | libc::TFD_CLOEXEC;
        // SAFETY: creates a descriptor we then own.
        let raw = check(unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, flags) })?;
        // SAFETY: `raw` is a fresh descriptor owned by nobody else.
        Ok(Timer { fd: unsafe { OwnedFd::from_raw_fd(raw) } })
    }

    /// Fires once after `after` (a zero duration fires at once).
    pub fn arm(&self, after: Duration) {
        let after = after.max(Duration::from_nanos(1));
        let spec = libc::itimerspec {
            it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: libc::timespec {
                tv_sec: after.as_secs() as libc::time_t,
                tv_nsec: after.subsec_nanos() as libc::c_long,
            },
        };
        // SAFETY: `spec` is valid; a null old-value pointer is allowed.
        unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
    }

    /// Consumes the expiry count so the fd stops being readable.
    pub fn clear(&self) {
        let mut buf = [0u8; 8];
        // SAFETY: reads at most 8 bytes into `buf`; EAGAIN is fine.
        unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), 8) };
    }

    /// The descriptor, to register with mio.
    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connects_from_a_chosen_loopback_address() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let src = Ipv4Addr::new(127, 0, 0, 3);
        let s = connect_from(Some(src), l.local_addr().unwrap()).unwrap();
        let (_, peer) = l.accept().unwrap();
        assert_eq!(peer.ip(), src);
        drop(s);
    }

    #[test]
    fn timer_fires() {
        let t = Timer::new().unwrap();
        t.arm(Duration::from_micros(200));
        let mut p = libc::pollfd { fd: t.raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut p, 1, 1000) };
        assert_eq!(n, 1);
        t.clear();
    }
}
