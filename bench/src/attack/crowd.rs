//! Many idle connections on one thread (mio): each logs in, may JOIN a
//! room, then reads and discards whatever the server sends, answering its
//! PINGs (or not). The big room's members, and the idle sockets that hold
//! places, are crowds.
//!
//! It measures nothing but how many connections got in and how many the
//! server closed.

use super::wire::connect_from;
use banter_proto::{check, decode_server, ClientFrame, ServerFrame};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// What a crowd is.
#[derive(Clone)]
pub struct Spec {
    /// Source addresses, `per_host` connections from each.
    pub hosts: Vec<Ipv4Addr>,
    /// Connections per address.
    pub per_host: usize,
    /// Names are this and a number.
    pub prefix: String,
    /// Room every member JOINs.
    pub room: Option<String>,
    /// Whether PINGs are answered (idle but alive) or not.
    pub answer_ping: bool,
}

/// A running crowd.
pub struct Crowd {
    /// Set to stop.
    stop: Arc<AtomicBool>,
    /// Connections logged in (sent HELLO without an immediate error).
    pub joined: Arc<AtomicUsize>,
    /// Connections the server closed.
    pub closed: Arc<AtomicUsize>,
    /// The thread.
    thread: Option<JoinHandle<()>>,
}

impl Crowd {
    /// Starts connecting `spec` to `to`.
    pub fn start(to: SocketAddr, spec: Spec) -> Crowd {
        let stop = Arc::new(AtomicBool::new(false));
        let (joined, closed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (s, j, c) = (stop.clone(), joined.clone(), closed.clone());
        let thread = std::thread::spawn(move || run(to, &spec, &s, &j, &c));
        Crowd { stop, joined, closed, thread: Some(thread) }
    }

    /// Stops and closes every connection.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One member: its socket and the bytes of a frame not yet whole.
struct Member {
    sock: TcpStream,
    buf: Vec<u8>,
}

fn run(to: SocketAddr, spec: &Spec, stop: &AtomicBool, joined: &AtomicUsize, closed: &AtomicUsize) {
    let Ok(mut poll) = Poll::new() else { return };
    let mut members: Vec<Option<Member>> = Vec::new();
    let mut events = Events::with_capacity(1024);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut todo = spec
        .hosts
        .iter()
        .enumerate()
        .flat_map(|(h, host)| (0..spec.per_host).map(move |i| (h, i, *host)));
    while !stop.load(Ordering::Relaxed) {
        // Connect a few more, then serve everyone: the first ones must
        // answer their PINGs while the last ones are still connecting.
        for (h, i, host) in todo.by_ref().take(64) {
            if let Some(m) = connect(to, spec, h, i, host) {
                let token = Token(members.len());
                let mut m = m;
                if poll.registry().register(&mut m.sock, token, Interest::READABLE).is_ok() {
                    members.push(Some(m));
                    joined.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if poll.poll(&mut events, Some(Duration::from_millis(50))).is_err() {
            continue;
        }
        for ev in events.iter() {
            let k = ev.token().0;
            let Some(Some(m)) = members.get_mut(k) else { continue };
            if !drain(m, &mut chunk, spec.answer_ping) {
                members[k] = None;
                closed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Member `i` of host number `h`: connected, HELLO and JOIN sent.
fn connect(to: SocketAddr, spec: &Spec, h: usize, i: usize, host: Ipv4Addr) -> Option<Member> {
    let mut std = connect_from(host, to).ok()?;
    let name = format!("{}{h}x{i}", spec.prefix);
    let mut frames =
        ClientFrame::Hello { version: 1, name, password: String::new(), resume: 0 }.to_bytes();
    if let Some(room) = &spec.room {
        ClientFrame::Join { room: room.clone(), since: 0, limit: 0 }.encode(&mut frames);
    }
    std.write_all(&frames).ok()?;
    std.set_nonblocking(true).ok()?;
    Some(Member { sock: TcpStream::from_std(std), buf: Vec::new() })
}

/// Reads what a member has; answers PINGs; false once it is closed.
fn drain(m: &mut Member, chunk: &mut [u8], answer_ping: bool) -> bool {
    loop {
        match m.sock.read(chunk) {
            Ok(0) => return false,
            Ok(n) => m.buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(_) => return false,
        }
    }
    let mut at = 0;
    while let Ok(n) = check(&m.buf[at..], u32::MAX) {
        if let Ok(ServerFrame::Ping { nonce }) = decode_server(&m.buf[at..at + n]) {
            if answer_ping {
                let _ = m.sock.write_all(&ClientFrame::Pong { nonce }.to_bytes());
            }
        }
        at += n;
    }
    m.buf.drain(..at);
    true
}
