//! A blocking Banter connection for the attack and soak scenarios: connect
//! from a chosen loopback source address (each address is another "host" to
//! the server's per-address limits), send frames, and read frames with a
//! time limit. PINGs are answered while reading.
//!
//! It does not pace, retry or keep statistics: the probes do.

use banter_proto::{check, decode_server, ClientFrame, DecodeError, ServerFrame};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::FromRawFd;
use std::time::{Duration, Instant};

/// A blocking TCP connection to `to` (IPv4) bound to `from` first.
pub fn connect_from(from: Ipv4Addr, to: SocketAddr) -> io::Result<TcpStream> {
    let SocketAddr::V4(to) = to else { return Err(io::Error::other("IPv4 only")) };
    let sin = |ip: Ipv4Addr, port: u16| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr { s_addr: u32::from(ip).to_be() },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: a socket created and owned here, handed to TcpStream (which
    // closes it); the sockaddr structs outlive each call.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let stream = TcpStream::from_raw_fd(fd);
        let local = sin(from, 0);
        if libc::bind(fd, (&local as *const libc::sockaddr_in).cast(), len) != 0 {
            return Err(io::Error::last_os_error());
        }
        let remote = sin(*to.ip(), to.port());
        if libc::connect(fd, (&remote as *const libc::sockaddr_in).cast(), len) != 0 {
            return Err(io::Error::last_os_error());
        }
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

/// One connection.
pub struct Wire {
    /// The socket (blocking; reads use timeouts).
    pub sock: TcpStream,
    /// Bytes read and not yet a whole frame.
    buf: Vec<u8>,
}

impl Wire {
    /// Connects from `from` to `to`.
    pub fn connect(from: Ipv4Addr, to: SocketAddr) -> io::Result<Wire> {
        Ok(Wire { sock: connect_from(from, to)?, buf: Vec::new() })
    }

    /// Sends frames in one write.
    pub fn send_all(&mut self, frames: &[ClientFrame]) -> io::Result<()> {
        let mut out = Vec::new();
        frames.iter().for_each(|f| f.encode(&mut out));
        self.sock.write_all(&out)
    }

    /// Sends one frame.
    pub fn send(&mut self, f: &ClientFrame) -> io::Result<()> {
        self.sock.write_all(&f.to_bytes())
    }

    /// The next frame other than PING (answered) within `limit`; `Ok(None)`
    /// on timeout, an error once the connection is gone.
    pub fn recv(&mut self, limit: Duration) -> io::Result<Option<ServerFrame>> {
        let end = Instant::now() + limit;
        loop {
            match check(&self.buf, u32::MAX) {
                Ok(n) => {
                    let f = decode_server(&self.buf[..n]).map_err(io::Error::other)?;
                    self.buf.drain(..n);
                    if let ServerFrame::Ping { nonce } = f {
                        self.send(&ClientFrame::Pong { nonce })?;
                        continue;
                    }
                    return Ok(Some(f));
                }
                Err(DecodeError::Incomplete) => {}
                Err(e) => return Err(io::Error::other(e)),
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.sock.set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
            let mut chunk = [0u8; 16 * 1024];
            match self.sock.read(&mut chunk) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// HELLO and its answer: the WELCOME's token, or why not.
    pub fn hello(
        &mut self,
        name: &str,
        password: &str,
        resume: u64,
        limit: Duration,
    ) -> Result<u64, String> {
        self.hello_resumed(name, password, resume, limit).map(|(token, _)| token)
    }

    /// HELLO and its answer: the WELCOME's token and whether it resumed.
    pub fn hello_resumed(
        &mut self,
        name: &str,
        password: &str,
        resume: u64,
        limit: Duration,
    ) -> Result<(u64, bool), String> {
        let (name, password) = (name.to_string(), password.to_string());
        self.send(&ClientFrame::Hello { version: 1, name, password, resume })
            .map_err(|e| e.to_string())?;
        let end = Instant::now() + limit;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.recv(left) {
                Ok(Some(ServerFrame::Welcome { token, resumed, .. })) => {
                    return Ok((token, resumed == 1))
                }
                Ok(Some(ServerFrame::Error { code, detail, .. })) => {
                    return Err(format!("ERROR {code}: {detail}"))
                }
                Ok(Some(_)) => {}
                Ok(None) => return Err("no WELCOME in time".into()),
                Err(e) => return Err(e.to_string()),
            }
        }
    }
}

/// The `i`-th address of a block of loopback hosts: `127.<block>.<i/250>.<i%250+1>`.
pub fn host(block: u8, i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, block, (i / 250) as u8, (i % 250) as u8 + 1)
}
