//! Several `banterd` nodes serving one chat over one Redis, for the cluster
//! tests: the nodes, their Redis, and a round-robin TCP proxy in front
//! that sends every new connection to the next node, so a test's clients
//! are spread over all of them without knowing it.

use crate::redis::Redis;
use crate::Server;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Nodes, Redis and the proxy.
pub struct Cluster {
    /// The nodes, in order (`n0`, `n1`, …); `None` for a killed one.
    pub nodes: Vec<Option<Server>>,
    /// Their Redis.
    pub redis: Redis,
    /// Where the proxy listens: connections go to the nodes in turn.
    pub addr: SocketAddr,
    /// The nodes' addresses the proxy picks from (a killed node's stays,
    /// and its connections fail, as a client would see).
    backends: Arc<Mutex<Vec<SocketAddr>>>,
    /// Set to make the proxy stop accepting.
    stop: Arc<AtomicBool>,
}

impl Cluster {
    /// `n` nodes with `args` each, one Redis, the proxy.
    pub fn start(n: usize, args: &[&str]) -> Cluster {
        let redis = Redis::start();
        let nodes: Vec<Option<Server>> = (0..n).map(|i| Some(node(&redis, i, args))).collect();
        let backends = Arc::new(Mutex::new(nodes.iter().flatten().map(|s| s.addr).collect()));
        let stop = Arc::new(AtomicBool::new(false));
        let addr = round_robin(backends.clone(), stop.clone());
        Cluster { nodes, redis, addr, backends, stop }
    }

    /// The proxy stops accepting (as a server does when told to stop).
    pub fn stop_proxy(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes its accept
    }

    /// Node `i`.
    pub fn node(&self, i: usize) -> &Server {
        self.nodes[i].as_ref().expect("node running")
    }

    /// `kill -9` of node `i`; the proxy skips it from now on.
    pub fn kill9(&mut self, i: usize) {
        if let Some(mut s) = self.nodes[i].take() {
            let addr = s.addr;
            s.kill9();
            self.backends.lock().unwrap_or_else(|e| e.into_inner()).retain(|a| *a != addr);
        }
    }
}

/// Node `i` of the cluster on `redis`.
pub fn node(redis: &Redis, i: usize, args: &[&str]) -> Server {
    let url = redis.url();
    let id = format!("n{i}");
    let mut all = vec!["--cluster", url.as_str(), "--node-id", id.as_str()];
    all.extend_from_slice(args);
    Server::spawn_one(0, &all, &[])
}

/// A proxy on 127.0.0.1 (port 0) handing each connection to the next of
/// `backends`; returns its address.
fn round_robin(backends: Arc<Mutex<Vec<SocketAddr>>>, stop: Arc<AtomicBool>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    let addr = listener.local_addr().expect("proxy addr");
    let next = AtomicUsize::new(0);
    std::thread::spawn(move || {
        for client in listener.incoming().map_while(Result::ok) {
            if stop.load(Ordering::SeqCst) {
                break; // the listener goes with this thread
            }
            let list = backends.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if list.is_empty() {
                continue;
            }
            let to = list[next.fetch_add(1, Ordering::Relaxed) % list.len()];
            if let Ok(server) = TcpStream::connect(to) {
                pipe(client, server);
            }
        }
    });
    addr
}

/// Copies both ways until either side closes.
fn pipe(a: TcpStream, b: TcpStream) {
    let _ = a.set_nodelay(true);
    let _ = b.set_nodelay(true);
    for (mut from, mut to) in [(a.try_clone(), b.try_clone()), (b.try_clone(), a.try_clone())]
        .into_iter()
        .filter_map(|(x, y)| Some((x.ok()?, y.ok()?)))
    {
        std::thread::spawn(move || {
            let mut buf = [0u8; 64 * 1024];
            loop {
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = to.shutdown(Shutdown::Write);
        });
    }
}
