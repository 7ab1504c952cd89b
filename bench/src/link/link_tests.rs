//! Tests of whole links against real servers on loopback: a rustls server,
//! tungstenite's WebSocket server, and both stacked (wss).

use super::*;
use crate::link::test_pki::{agree_banter, temp_file, Pki};
use rustls::{ServerConnection, StreamOwned};
use std::net::TcpListener;
use std::time::{Duration, Instant};
use tungstenite::Message;

/// A client link on a real socket, pumped by hand (no poll).
struct Client {
    /// The socket.
    stream: TcpStream,
    /// Its link.
    link: Link,
    /// Queued output and how much of it is written.
    out: (Vec<u8>, usize),
    /// WebSocket masks.
    masks: Masks,
    /// Application bytes received.
    got: Vec<u8>,
}

impl Client {
    fn connect(addr: std::net::SocketAddr, setup: &Setup) -> Client {
        let s = std::net::TcpStream::connect(addr).unwrap();
        s.set_nonblocking(true).unwrap();
        let mut c = Client {
            stream: TcpStream::from_std(s),
            link: Link::new(setup).unwrap(),
            out: (Vec::new(), 0),
            masks: Masks::default(),
            got: Vec::new(),
        };
        let opened = c.link.start(setup, &mut c.out.0, &mut c.masks);
        assert_eq!(opened, setup.ws.is_none());
        c
    }

    fn send(&mut self, bytes: &[u8]) {
        let start = self.out.0.len();
        self.out.0.extend_from_slice(bytes);
        self.link.wrap(&mut self.out.0, start, &mut self.masks);
    }

    /// Reads and writes until `done` holds for what arrived (5 s at most);
    /// `raw` small splits TLS records across reads.
    fn pump(&mut self, raw: usize, done: impl Fn(&Client) -> bool) -> Result<(), String> {
        let (mut scratch, mut raw) = (vec![0u8; 64 * 1024], vec![0u8; raw]);
        let end = Instant::now() + Duration::from_secs(5);
        while !done(self) {
            assert!(Instant::now() < end, "timed out; got {} bytes", self.got.len());
            if let Some(why) = self.link.take_ended() {
                return Err(why);
            }
            let (out, at) = (&self.out.0[..], &mut self.out.1);
            let io = FlushIo { stream: &mut self.stream, out, at, writes: &mut 0 };
            self.link.flush(io)?;
            let out = &mut self.out.0;
            let io = ReadIo {
                stream: &mut self.stream,
                scratch: &mut scratch,
                carry: 0,
                raw: &mut raw,
                out,
                masks: &mut self.masks,
            };
            match self.link.read(io) {
                ReadResult::Data { total, .. } => self.got.extend_from_slice(&scratch[..total]),
                ReadResult::Drained => std::thread::sleep(Duration::from_millis(1)),
                ReadResult::Closed(why) => return Err(why),
            }
        }
        Ok(())
    }
}

/// A TLS server on a thread: `serve` gets each accepted stream.
fn tls_server<F>(
    pki: &Pki,
    conns: usize,
    serve: F,
) -> (std::net::SocketAddr, std::thread::JoinHandle<()>)
where
    F: Fn(StreamOwned<ServerConnection, std::net::TcpStream>) + Send + 'static,
{
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let cfg = pki.server.clone();
    let h = std::thread::spawn(move || {
        for _ in 0..conns {
            let (s, _) = l.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let conn = ServerConnection::new(cfg.clone()).unwrap();
            serve(StreamOwned::new(conn, s));
        }
    });
    (addr, h)
}

fn setup_for(url: &str, ca: &str) -> Setup {
    let t = Target::parse(url).unwrap();
    let opts = TlsOpts { ca: Some(temp_file(ca)), insecure: false };
    let s = Setup::for_target(&t, &opts).unwrap();
    let _ = std::fs::remove_file(opts.ca.unwrap());
    s
}

#[test]
fn tls_round_trip_split_at_every_byte_with_full_handshakes() {
    use std::io::{Read as _, Write as _};
    let pki = Pki::new(&[tls::ALPN_BANTER]);
    let (addr, server) = tls_server(&pki, 2, |mut s| {
        let mut buf = vec![0u8; 70_000];
        s.read_exact(&mut buf).unwrap();
        s.write_all(&buf).unwrap();
        assert_eq!(s.conn.alpn_protocol(), Some(&b"banter/1"[..]));
        assert_eq!(s.conn.handshake_kind(), Some(rustls::HandshakeKind::Full));
        s.conn.send_close_notify();
        let _ = s.flush();
    });
    let setup = setup_for(&format!("banters://{addr}"), &pki.ca_pem);
    let payload: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    for raw in [1usize, 64 * 1024] {
        let mut c = Client::connect(addr, &setup);
        c.send(&payload);
        c.pump(raw, |c| c.got.len() >= payload.len()).unwrap();
        assert!(c.got == payload, "raw {raw}");
        let summary = c.link.take_handshake().expect("handshake done");
        assert!(summary.starts_with("TLSv1_3"), "{summary}");
        assert_eq!(c.link.take_handshake(), None, "reported once");
        let e = c.pump(raw, |_| false).unwrap_err();
        assert!(e.contains("close_notify"), "{e}");
    }
    server.join().unwrap();
}

#[test]
fn an_untrusted_certificate_fails_unless_verification_is_skipped() {
    let pki = Pki::new(&[]);
    let (addr, server) = tls_server(&pki, 2, |mut s| {
        use std::io::Read as _;
        let _ = s.read(&mut [0u8; 16]);
    });
    let other = Pki::new(&[]);
    let setup = setup_for(&format!("rediss://{addr}"), &other.ca_pem);
    let mut c = Client::connect(addr, &setup);
    c.send(b"PING\r\n");
    let e = c.pump(4096, |_| false).unwrap_err();
    assert!(e.contains("certificate"), "{e}");
    let t = Target::parse(&format!("rediss://{addr}")).unwrap();
    let insecure = Setup::for_target(&t, &TlsOpts { ca: None, insecure: true }).unwrap();
    let mut c = Client::connect(addr, &insecure);
    c.send(b"PING\r\n");
    c.pump(4096, |c| c.link.tls.as_ref().is_some_and(|t| !t.conn.is_handshaking())).unwrap();
    drop(c);
    server.join().unwrap();
}

#[test]
fn wss_upgrades_echoes_answers_pings_and_reports_the_close() {
    let pki = Pki::new(&[tls::ALPN_HTTP]);
    let (addr, server) = tls_server(&pki, 1, |s| {
        let mut ws = tungstenite::accept_hdr(s, agree_banter).unwrap();
        ws.send(Message::Ping(b"are you there".to_vec().into())).unwrap();
        let mut echoed = 0;
        while echoed < 2 {
            match ws.read().unwrap() {
                Message::Binary(b) => {
                    ws.send(Message::Binary(b)).unwrap();
                    echoed += 1;
                }
                Message::Pong(p) => assert_eq!(&p[..], b"are you there"),
                other => panic!("{other:?}"),
            }
        }
        ws.close(None).unwrap();
        while ws.read().is_ok() {}
    });
    let setup = setup_for(&format!("wss://localhost:{}/ws", addr.port()), &pki.ca_pem);
    let mut c = Client::connect(addr, &setup);
    c.pump(4096, |c| c.link.ws.as_ref().is_some_and(|w| w.key.is_none())).unwrap();
    assert!(c.link.take_opened() && !c.link.take_opened());
    c.send(b"first unit");
    c.send(&[9u8; 5000]);
    c.pump(3, |c| c.got.len() >= 5010).unwrap();
    assert_eq!(&c.got[..10], b"first unit");
    let e = c.pump(4096, |_| false).unwrap_err();
    assert!(e.contains("WebSocket closed by the server"), "{e}");
    drop(c);
    server.join().unwrap();
}

#[test]
fn a_server_that_is_not_http_is_named() {
    use std::io::Write as _;
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        // What a Banter-only server answers: ERROR TOO_LARGE, then close.
        s.write_all(&[0, 0, 0, 9, 0x22, 0, 2, 0, 0, 0, 0, 0, 0]).unwrap();
    });
    let setup =
        Setup::for_target(&Target::parse(&format!("ws://{addr}/ws")).unwrap(), &TlsOpts::default())
            .unwrap();
    let mut c = Client::connect(addr, &setup);
    let e = c.pump(4096, |_| false).unwrap_err();
    assert!(e.contains("not HTTP") && e.contains("00 00 00 09 22"), "{e}");
    server.join().unwrap();
}
