//! The soak's background load: sessions that come and go (log in, join,
//! say one line, quit), readers that never read (dropped as slow
//! consumers, then back), and readers that page through whole rooms with
//! HISTORY and JOIN replays. None of it is checked here; it is there to
//! make the server work while the writers' messages are counted.

use super::writer::Shared;
use crate::attack::wire::{host, Wire};
use banter_proto::{ClientFrame, ServerFrame};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Connect, log in, join, say one line (its ACK goes to the ledger), quit.
pub fn churn(to: SocketAddr, stop: &AtomicBool, ledger: &Shared) {
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let text = format!("c-{n}");
        let Ok(mut w) = Wire::connect(host(6, (n % 200) as usize), to) else {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        };
        if w.hello(&format!("churn{n}"), "", 0, Duration::from_secs(5)).is_ok() {
            let room = format!("soak{}", n % 3);
            let frames = [
                ClientFrame::Join { room: room.clone(), since: 0, limit: 5 },
                ClientFrame::Say { room, seq: 1, text: text.clone(), flags: 0 },
            ];
            if w.send_all(&frames).is_ok() {
                while let Ok(Some(f)) = w.recv(Duration::from_secs(2)) {
                    if let ServerFrame::Ack { room, id, .. } = f {
                        let mut l = ledger.lock().unwrap_or_else(|e| e.into_inner());
                        l.acked.insert(text.clone(), (room, id));
                        break;
                    }
                }
            }
            let _ = w.send(&ClientFrame::Quit { reason: "churn".into() });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Joins every soak room with a replay and never reads; reconnects when
/// the server has dropped it.
pub fn slow(i: usize, to: SocketAddr, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut w) = Wire::connect(host(7, i), to) else {
            std::thread::sleep(Duration::from_millis(500));
            continue;
        };
        if w.hello(&format!("slow{i}"), "", 0, Duration::from_secs(5)).is_err() {
            std::thread::sleep(Duration::from_millis(500));
            continue;
        }
        let joins: Vec<ClientFrame> = (0..3)
            .map(|r| ClientFrame::Join { room: format!("soak{r}"), since: 0, limit: 1000 })
            .collect();
        let _ = w.send_all(&joins);
        // Never read; look once in a while whether the server let go.
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_secs(5));
            let mut peek = [0u8; 1];
            w.sock.set_nonblocking(true).ok();
            let gone = matches!(w.sock.peek(&mut peek), Ok(0))
                || matches!(w.sock.peek(&mut peek), Err(ref e) if e.kind() != std::io::ErrorKind::WouldBlock);
            w.sock.set_nonblocking(false).ok();
            if gone {
                break;
            }
        }
    }
}

/// Pages through the soak rooms with HISTORY and JOIN replays, reading all.
pub fn history(i: usize, to: SocketAddr, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut w) = Wire::connect(host(8, i), to) else {
            std::thread::sleep(Duration::from_millis(500));
            continue;
        };
        if w.hello(&format!("pager{i}"), "", 0, Duration::from_secs(5)).is_err() {
            std::thread::sleep(Duration::from_millis(500));
            continue;
        }
        'pages: while !stop.load(Ordering::Relaxed) {
            for r in 0..3 {
                let room = format!("soak{r}");
                let frames = [
                    ClientFrame::Join { room: room.clone(), since: 0, limit: 1000 },
                    ClientFrame::History { room, before: 0, limit: 1000 },
                ];
                if w.send_all(&frames).is_err() {
                    break 'pages;
                }
                let mut ends = 0;
                while ends < 2 {
                    match w.recv(Duration::from_secs(5)) {
                        Ok(Some(ServerFrame::HistoryEnd { .. })) => ends += 1,
                        Ok(Some(ServerFrame::Error { code: 15, .. })) => ends += 1,
                        Ok(Some(_)) => {}
                        Ok(None) | Err(_) => break 'pages,
                    }
                }
                std::thread::sleep(Duration::from_millis(300));
            }
        }
    }
}
