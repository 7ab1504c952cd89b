//! Where the browser tests load the web client from ([`front`]: banterd
//! itself, which serves the page and `/ws` on its one port), and a TCP
//! [`Relay`] that can cut the page's connection to simulate a network drop,
//! or slow it down to watch a transfer move.
//!
//! Nothing here serves the page: banterd does.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where the page is served.
pub struct Front {
    /// The page's address, e.g. `http://127.0.0.1:PORT`.
    pub addr: SocketAddr,
}

/// Where the browser finds the web client of the banterd listening on
/// `banterd_port` (it keeps that port across restarts).
pub fn front(banterd_port: u16) -> Front {
    Front { addr: SocketAddr::from(([127, 0, 0, 1], banterd_port)) }
}

impl Front {
    /// The page's URL.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

/// A TCP relay in front of the page's server: the browser loads the page
/// and opens its WebSocket through it, and [`Relay::cut`] drops every
/// relayed connection (refusing new ones) until [`Relay::restore`];
/// [`Relay::throttle`] bounds its speed.
pub struct Relay {
    /// Where the browser connects.
    pub addr: SocketAddr,
    /// Whether the outage is on.
    down: Arc<AtomicBool>,
    /// Both ends of every relayed connection, to cut them.
    conns: Arc<Mutex<Vec<TcpStream>>>,
    /// Bytes per second each direction of each connection may carry (0: any).
    rate: Arc<AtomicU64>,
}

/// Bytes the relay moves at a time (so a throttle is smooth).
const PIECE: usize = 16 * 1024;

impl Relay {
    /// A relay to `target` on 127.0.0.1, port 0.
    pub fn start(target: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
        let addr = listener.local_addr().expect("relay addr");
        let down = Arc::new(AtomicBool::new(false));
        let conns = Arc::new(Mutex::new(Vec::new()));
        let rate = Arc::new(AtomicU64::new(0));
        let (d, c, r) = (down.clone(), conns.clone(), rate.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                if d.load(Ordering::SeqCst) {
                    continue; // dropped: the browser sees a failed connection
                }
                if let Ok(server) = TcpStream::connect(target) {
                    pipe(client, server, &c, &r);
                }
            }
        });
        Relay { addr, down, conns, rate }
    }

    /// Carries at most `bytes_per_sec` each way on each connection (0: as
    /// fast as it can), from now on.
    pub fn throttle(&self, bytes_per_sec: u64) {
        self.rate.store(bytes_per_sec, Ordering::SeqCst);
    }

    /// The page's URL through the relay.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Drops every relayed connection and refuses new ones.
    pub fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for c in self.conns.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Relays again.
    pub fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

/// Copies bytes both ways on two threads.
fn pipe(a: TcpStream, b: TcpStream, conns: &Mutex<Vec<TcpStream>>, rate: &Arc<AtomicU64>) {
    let clones = [a.try_clone(), b.try_clone(), a.try_clone(), b.try_clone()];
    let [Ok(a2), Ok(b2), Ok(a3), Ok(b3)] = clones else {
        return;
    };
    conns.lock().unwrap_or_else(|e| e.into_inner()).extend([a3, b3]);
    for (from, to) in [(a, b2), (b, a2)] {
        let rate = rate.clone();
        std::thread::spawn(move || copy(from, to, &rate));
    }
}

/// Copies `from` to `to` a piece at a time, pausing after each piece as
/// long as the rate asks, until either end closes.
fn copy(mut from: TcpStream, mut to: TcpStream, rate: &AtomicU64) {
    let mut buf = vec![0u8; PIECE];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        let r = rate.load(Ordering::SeqCst);
        if r > 0 {
            std::thread::sleep(Duration::from_secs_f64(n as f64 / r as f64));
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Both);
}
