//! Where the browser tests load the web client from ([`front`], the one
//! switch between the development bridge and banterd itself), and a TCP
//! [`Relay`] that can cut the page's connection to simulate a network drop.
//!
//! Nothing here serves the page: banterd (or, until it serves HTTP, the
//! bridge) does.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where the page is served, and the helper process serving it, if any.
pub struct Front {
    /// The page's address, e.g. `http://127.0.0.1:PORT`.
    pub addr: SocketAddr,
    /// The development bridge, killed when dropped (`None`: banterd serves).
    bridge: Option<Child>,
}

/// THE SWITCH: where the browser finds the web client of the banterd
/// listening on `banterd_port` (it keeps that port across restarts).
///
/// banterd does not answer HTTP yet, so for now the page comes from a
/// development bridge that is not in the repository: `BANTER_WEB_BRIDGE`
/// names a Node script run as `node SCRIPT WEB_DIR BANTERD_PORT`, which
/// serves `server/web/` at `/` and pipes `/ws` to banterd's TCP port.
///
/// Once banterd serves `/` and `/ws` itself, make the body
/// `Front::banterd(banterd_port)`.
pub fn front(banterd_port: u16) -> Front {
    Front::dev_bridge(banterd_port)
}

impl Front {
    /// banterd serves the page and the WebSocket on its own port.
    pub fn banterd(port: u16) -> Front {
        Front { addr: SocketAddr::from(([127, 0, 0, 1], port)), bridge: None }
    }

    /// Starts the development bridge in front of banterd's TCP port.
    pub fn dev_bridge(banterd_port: u16) -> Front {
        let Some(script) = std::env::var_os("BANTER_WEB_BRIDGE") else {
            panic!(
                "the web client's tests need a page server: banterd does not serve HTTP yet and \
                 BANTER_WEB_BRIDGE (a development bridge script) is not set; once banterd serves \
                 `/` and `/ws`, flip banter_tests::front::front to Front::banterd"
            );
        };
        let mut child = Command::new("node")
            .arg(script)
            .arg(web_dir())
            .arg(banterd_port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start node with BANTER_WEB_BRIDGE");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(a) = line.split("listening on ").nth(1) {
                    let _ = tx.send(a.trim().to_string());
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(10)).map(|a| a.parse::<SocketAddr>()) {
            Ok(Ok(addr)) => Front { addr, bridge: Some(child) },
            _ => {
                let _ = child.kill();
                panic!("the development bridge did not start within 10 s");
            }
        }
    }

    /// The page's URL.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        if let Some(mut c) = self.bridge.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The web client's files in the source tree (`server/web/`).
pub fn web_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../server/web")
}

/// A TCP relay in front of the page's server: the browser loads the page
/// and opens its WebSocket through it, and [`Relay::cut`] drops every
/// relayed connection (refusing new ones) until [`Relay::restore`].
pub struct Relay {
    /// Where the browser connects.
    pub addr: SocketAddr,
    /// Whether the outage is on.
    down: Arc<AtomicBool>,
    /// Both ends of every relayed connection, to cut them.
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    /// A relay to `target` on 127.0.0.1, port 0.
    pub fn start(target: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
        let addr = listener.local_addr().expect("relay addr");
        let down = Arc::new(AtomicBool::new(false));
        let conns = Arc::new(Mutex::new(Vec::new()));
        let (d, c) = (down.clone(), conns.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                if d.load(Ordering::SeqCst) {
                    continue; // dropped: the browser sees a failed connection
                }
                if let Ok(server) = TcpStream::connect(target) {
                    pipe(client, server, &c);
                }
            }
        });
        Relay { addr, down, conns }
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
fn pipe(a: TcpStream, b: TcpStream, conns: &Mutex<Vec<TcpStream>>) {
    let clones = [a.try_clone(), b.try_clone(), a.try_clone(), b.try_clone()];
    let [Ok(a2), Ok(b2), Ok(a3), Ok(b3)] = clones else {
        return;
    };
    conns.lock().unwrap_or_else(|e| e.into_inner()).extend([a3, b3]);
    for (mut from, mut to) in [(a, b2), (b, a2)] {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = to.shutdown(std::net::Shutdown::Both);
        });
    }
}
