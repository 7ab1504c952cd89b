//! Framing (spec §1): frames split across reads at every byte, many frames
//! in one write, and the spec's test vectors as the server sends them.
//!
//! Size limits and malformed frames are in `server_limits`.

use crate::server_util::*;
use banter_proto::{ClientFrame, ServerFrame};
use banter_tests::*;
use std::time::Duration;

/// The spec's JOIN test vector: room "lobby", since 0, limit 20.
const JOIN_VECTOR: [u8; 22] = [
    0x00, 0x00, 0x00, 0x12, 0x02, 0x00, 0x05, 0x6c, 0x6f, 0x62, 0x62, 0x79, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x14,
];

/// The spec's MSG test vector (id 3, from "ada", text "hi"); its `ts`
/// (bytes 20..28) is patched with the real one.
const MSG_VECTOR: [u8; 38] = [
    0x00, 0x00, 0x00, 0x22, 0x25, 0x00, 0x05, 0x6c, 0x6f, 0x62, 0x62, 0x79, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x01, 0x9a, 0xc8, 0x79, 0x8b, 0x00, 0x00, 0x03, 0x61, 0x64,
    0x61, 0x00, 0x00, 0x02, 0x68, 0x69,
];

/// Writes `bytes` one byte per write, pausing 1 ms after each so that the
/// server's reads see the split (TCP_NODELAY is on).
fn trickle(c: &mut Conn, bytes: &[u8]) {
    for b in bytes {
        c.send_raw(std::slice::from_ref(b));
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_stream_split_at_every_byte_is_understood() {
    let s = Server::start(&[]);
    let mut bob = s.login("bob");
    join(&mut bob, "lobby", "lobby", 0, 0);
    let mut c = s.connect();
    let mut stream = hello_f("ada", "", 0).to_bytes();
    stream.extend_from_slice(&JOIN_VECTOR);
    stream.extend(batch(&[
        say_f("lobby", 1, "split é"),
        ClientFrame::Ping { nonce: 77 },
        ClientFrame::Who { room: "lobby".into() },
    ]));
    trickle(&mut c, &stream);
    c.expect_welcome();
    let a = read_join(&mut c, "lobby", 20);
    assert_eq!(a.names(), ["bob", "ada"]);
    assert!(matches!(c.recv_app(), ServerFrame::Ack { seq: 1, id: 1, .. }));
    assert_eq!(c.recv_app(), ServerFrame::Pong { nonce: 77 });
    assert_eq!(roster_names(&read_rosters(&mut c, "lobby")), ["bob", "ada"]);
    assert_eq!(bob.recv_app(), presence("lobby", "ada", JOINED_EV));
    let ServerFrame::Msg { text, .. } = bob.recv_app() else {
        panic!("expected MSG");
    };
    assert_eq!(text, "split é");
}

#[test]
fn a_thousand_frames_in_one_write() {
    let s = Server::start(&["--rate", "0"]);
    let mut v = room_of(&s, &["ada", "bob"], "lobby");
    let mut frames = Vec::new();
    for i in 1..=1000u32 {
        frames.push(say_f("lobby", i, &format!("n{i}")));
        frames.push(ClientFrame::Ping { nonce: u64::from(i) });
    }
    v[0].send_raw(&batch(&frames));
    // ACKs in SAY order and PONGs in PING order; the spec does not order
    // the answers of different frames against each other.
    let (mut acks, mut pongs) = (Vec::new(), Vec::new());
    for _ in 0..2000 {
        match v[0].recv_app() {
            ServerFrame::Ack { seq, id, .. } => acks.push((seq, id)),
            ServerFrame::Pong { nonce } => pongs.push(nonce),
            f => panic!("expected ACK or PONG, got {f:?}"),
        }
    }
    let want: Vec<(u32, u64)> = (1..=1000u32).map(|i| (i, u64::from(i))).collect();
    assert_eq!(acks, want);
    assert_eq!(pongs, (1..=1000u64).collect::<Vec<_>>());
    for i in 1..=1000u64 {
        let ServerFrame::Msg { id, text, .. } = v[1].recv_app() else {
            panic!("expected MSG {i}");
        };
        assert_eq!((id, text), (i, format!("n{i}")));
    }
}

#[test]
fn msg_bytes_match_the_spec_vector() {
    let s = Server::start(&[]);
    let mut v = room_of(&s, &["ada"], "lobby");
    say(&mut v[0], "lobby", 1, "a");
    say(&mut v[0], "lobby", 2, "b");
    let mut bob = s.login("bob");
    join(&mut bob, "lobby", "lobby", 0, 0);
    assert_eq!(v[0].recv_app(), presence("lobby", "bob", JOINED_EV));
    let (id, ts) = say(&mut v[0], "lobby", 3, "hi");
    assert_eq!(id, 3);
    // bob has read everything before: the next bytes on his socket are the
    // MSG, exactly the vector's with the ts patched in.
    let mut got = [0u8; MSG_VECTOR.len()];
    bob.stream.set_read_timeout(Some(WAIT)).expect("timeout");
    std::io::Read::read_exact(&mut bob.stream, &mut got).expect("MSG bytes");
    let mut want = MSG_VECTOR;
    want[20..28].copy_from_slice(&ts.to_be_bytes());
    assert_eq!(got, want);
}

#[test]
fn error_bytes_match_the_spec_vector() {
    let s = Server::start(&[]);
    let mut c = s.login("ada");
    join(&mut c, "other", "other", 0, 0);
    c.send(&say_f("lobby", 7, "hi"));
    // Everything before was read: the next bytes are the ERROR. Its detail
    // is the server's own text; the fields before it are the vector's.
    let mut head = [0u8; 14];
    c.stream.set_read_timeout(Some(WAIT)).expect("timeout");
    std::io::Read::read_exact(&mut c.stream, &mut head).expect("ERROR bytes");
    let vector_head = [0x22, 0x00, 0x0d, 0x04, 0x00, 0x00, 0x00, 0x07];
    assert_eq!(head[4..12], vector_head);
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let detail_len = usize::from(u16::from_be_bytes([head[12], head[13]]));
    assert_eq!(len, 1 + 2 + 1 + 4 + 2 + detail_len, "no bytes after detail");
}
