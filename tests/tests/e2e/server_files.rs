//! File sharing end to end (§10): uploads and downloads of 1-byte,
//! exact-chunk and multi-megabyte files checked by SHA-256, a resume after
//! a dropped connection, every refusal with its code, a non-member's
//! FETCH, `kill -9` mid-upload leaving no visible file, and chat that
//! still gets through while a large file moves.

use crate::server_util::*;
use crate::store::db_of;
use banter_proto::{types, ClientFrame, ErrorCode, ServerFrame};
use banter_tests::*;
use sha2::{Digest, Sha256};
use std::time::Duration;

const PW: &str = "correct horse";
const HASH_WAIT: Duration = Duration::from_secs(20);
/// Bytes per CHUNK the tests send.
const CHUNK: usize = 60_000;

pub(crate) fn files_server(dir: &TempDir, extra: &[&str]) -> Server {
    let files = dir.0.join("files").display().to_string();
    let mut args = vec!["--files", files.as_str(), "--rate", "0"];
    args.extend_from_slice(extra);
    Server::start(&args)
}

/// A registered account signed in (registering on first use).
pub(crate) fn account(s: &Server, name: &str, new: bool) -> Conn {
    let mut c = s.connect();
    c.hello(name, if new { "" } else { PW }, 0);
    match next_app_within(&mut c, HASH_WAIT) {
        ServerFrame::Welcome { token, .. } => c.token = token,
        f => panic!("{name}: expected WELCOME, got {f:?}"),
    }
    if new {
        c.send(&ClientFrame::Register { password: PW.into() });
        assert!(matches!(next_app_within(&mut c, HASH_WAIT), ServerFrame::Registered { .. }));
    }
    c
}

pub(crate) fn sha(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes that are not all alike, `n` of them.
pub(crate) fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn upload_f(seq: u32, room: &str, name: &str, size: u64) -> ClientFrame {
    ClientFrame::Upload {
        seq,
        room: room.into(),
        name: name.into(),
        size,
        mime: "application/octet-stream".into(),
    }
}

/// Sends `data[from..]` in CHUNKs of upload `seq`.
fn send_chunks(c: &mut Conn, seq: u32, data: &[u8], from: usize) {
    let mut at = from;
    while at < data.len() {
        let end = (at + CHUNK).min(data.len());
        c.send(&ClientFrame::Chunk { seq, offset: at as u64, data: data[at..end].to_vec() });
        at = end;
    }
}

/// A whole upload; returns the ACK's id.
pub(crate) fn upload(c: &mut Conn, seq: u32, room: &str, name: &str, data: &[u8]) -> u64 {
    c.send(&upload_f(seq, room, name, data.len() as u64));
    assert_eq!(next_app(c), ServerFrame::UploadReady { seq, offset: 0 });
    send_chunks(c, seq, data, 0);
    match next_app_within(c, HASH_WAIT) {
        ServerFrame::Ack { seq: s, id, .. } if s == seq => id,
        f => panic!("expected the upload's ACK, got {f:?}"),
    }
}

/// FETCH from `offset`: every FILE_DATA until the last, in order.
fn fetch(c: &mut Conn, hash: &str, offset: u64) -> Vec<u8> {
    c.send(&ClientFrame::Fetch { file: hash.into(), offset });
    let mut got = Vec::new();
    loop {
        match next_app_within(c, HASH_WAIT) {
            ServerFrame::FileData { file, offset: o, last, data } => {
                assert_eq!((file.as_str(), o), (hash, offset + got.len() as u64));
                got.extend_from_slice(&data);
                if last == 1 {
                    return got;
                }
            }
            f => panic!("expected FILE_DATA, got {f:?}"),
        }
    }
}

/// The file message `c` receives next.
fn file_msg(c: &mut Conn) -> banter_proto::FileRef {
    match next_app_within(c, HASH_WAIT) {
        ServerFrame::Msg { file: Some(f), flags, .. } if flags & banter_proto::FLAG_FILE != 0 => f,
        f => panic!("expected a file MSG, got {f:?}"),
    }
}

#[test]
fn files_of_every_size_go_up_and_down_intact() {
    let dir = TempDir::new("files-sizes");
    let s = files_server(&dir, &[]);
    let mut ada = account(&s, "ada", true);
    let mut bob = s.login("bob");
    join(&mut ada, "lobby", "lobby", 0, 0);
    join(&mut bob, "lobby", "lobby", 0, 0);
    next_app(&mut ada);
    for (seq, n) in [(1u32, 1usize), (2, 2 * CHUNK), (3, 5 << 20)] {
        let data = bytes(n);
        upload(&mut ada, seq, "lobby", &format!("file-{n}.bin"), &data);
        let f = file_msg(&mut bob);
        assert_eq!((f.file.clone(), f.size), (sha(&data), n as u64));
        let on_disk = dir.0.join("files").join(&f.file[..2]).join(&f.file[2..4]).join(&f.file);
        assert_eq!(std::fs::read(on_disk).expect("stored under its hash"), data);
        assert_eq!(sha(&fetch(&mut bob, &f.file, 0)), f.file, "{n} bytes back intact");
        assert_eq!(fetch(&mut bob, &f.file, n as u64 - 1), data[n - 1..], "from an offset");
    }
}

#[test]
fn an_upload_resumes_after_a_dropped_connection() {
    let dir = TempDir::new("files-resume");
    let s = files_server(&dir, &[]);
    let mut ada = account(&s, "ada", true);
    join(&mut ada, "lobby", "lobby", 0, 0);
    let data = bytes(6 * CHUNK);
    ada.send(&upload_f(9, "lobby", "big.bin", data.len() as u64));
    assert_eq!(next_app(&mut ada), ServerFrame::UploadReady { seq: 9, offset: 0 });
    send_chunks(&mut ada, 9, &data[..3 * CHUNK], 0);
    ada.send(&ClientFrame::Ping { nonce: 1 });
    assert_eq!(next_app(&mut ada), ServerFrame::Pong { nonce: 1 }, "the chunks were read");
    let token = ada.token;
    drop(ada); // no QUIT: the session lingers with its upload
    let mut again = s.connect();
    again.hello("ada", PW, token);
    let w = next_app_within(&mut again, HASH_WAIT);
    assert!(matches!(w, ServerFrame::Welcome { resumed: 1, .. }), "{w:?}");
    again.send(&upload_f(9, "lobby", "big.bin", data.len() as u64));
    assert_eq!(next_app(&mut again), ServerFrame::UploadReady { seq: 9, offset: 3 * CHUNK as u64 });
    send_chunks(&mut again, 9, &data, 3 * CHUNK);
    assert!(matches!(next_app_within(&mut again, HASH_WAIT), ServerFrame::Ack { seq: 9, .. }));
    again.send(&upload_f(9, "lobby", "big.bin", data.len() as u64));
    assert!(
        matches!(next_app(&mut again), ServerFrame::Ack { seq: 9, .. }),
        "a finished seq gets its ACK again"
    );
}

#[test]
fn every_refusal_has_its_code() {
    let dir = TempDir::new("files-refuse");
    let off = Server::start(&[]);
    let mut c = account(&off, "ada", true);
    c.send(&upload_f(1, "lobby", "x", 1));
    expect_error(&mut c, ErrorCode::FileRefused, types::UPLOAD, 1);
    c.send(&ClientFrame::Fetch { file: "ab".repeat(32), offset: 0 });
    expect_error(&mut c, ErrorCode::FileUnknown, types::FETCH, 0);
    let s = files_server(&dir, &["--max-file", "1000", "--file-quota", "2500"]);
    let mut guest = s.login("guest");
    guest.send(&upload_f(1, "lobby", "x", 1));
    expect_error(&mut guest, ErrorCode::FileRefused, types::UPLOAD, 1);
    let mut ada = account(&s, "ada", true);
    let refused = [(2, "", 1), (3, "a/b", 1), (4, "x\n", 1), (5, "x", 0), (6, "x", 1001)];
    for (seq, name, size) in refused {
        ada.send(&upload_f(seq, "lobby", name, size));
        expect_error(&mut ada, ErrorCode::FileRefused, types::UPLOAD, seq);
    }
    ada.send(&upload_f(7, "lobby", "x", 10));
    expect_error(&mut ada, ErrorCode::NotInRoom, types::UPLOAD, 7);
    join(&mut ada, "lobby", "lobby", 0, 0);
    for seq in [8, 9] {
        ada.send(&upload_f(seq, "lobby", "x", 1000));
        assert_eq!(next_app(&mut ada), ServerFrame::UploadReady { seq, offset: 0 });
    }
    ada.send(&upload_f(10, "lobby", "x", 1000));
    expect_error(&mut ada, ErrorCode::FileRefused, types::UPLOAD, 10); // quota: 3 000 > 2 500
    ada.send(&ClientFrame::Chunk { seq: 8, offset: 5, data: vec![1] });
    expect_error(&mut ada, ErrorCode::BadFrame, types::CHUNK, 8);
    ada.send(&ClientFrame::Chunk { seq: 99, offset: 0, data: vec![1] });
    expect_error(&mut ada, ErrorCode::BadFrame, types::CHUNK, 99);
    assert_alive(&mut ada);
}

#[test]
fn only_members_may_fetch() {
    let dir = TempDir::new("files-members");
    let s = files_server(&dir, &[]);
    let mut ada = account(&s, "ada", true);
    let mut bob = account(&s, "bob", true);
    let mut eve = s.login("eve");
    join(&mut ada, "lobby", "lobby", 0, 0);
    join(&mut eve, "other", "other", 0, 0);
    upload(&mut ada, 1, "@bob", "secret.txt", b"for bob only");
    let f = file_msg(&mut bob);
    assert_eq!(fetch(&mut bob, &f.file, 0), b"for bob only");
    eve.send(&ClientFrame::Fetch { file: f.file.clone(), offset: 0 });
    expect_error(&mut eve, ErrorCode::FileUnknown, types::FETCH, 0);
    eve.send(&ClientFrame::Fetch { file: "../../etc/passwd".into(), offset: 0 });
    expect_error(&mut eve, ErrorCode::FileUnknown, types::FETCH, 0);
}

#[test]
fn kill_9_mid_upload_leaves_no_visible_file_and_the_upload_starts_again() {
    let dir = TempDir::new("files-kill");
    let db = db_of(&dir);
    let mut s = files_server(&dir, &["--db", &db]);
    let mut ada = account(&s, "ada", true);
    join(&mut ada, "lobby", "lobby", 0, 0);
    let data = bytes(4 * CHUNK);
    ada.send(&upload_f(1, "lobby", "half.bin", data.len() as u64));
    next_app(&mut ada);
    send_chunks(&mut ada, 1, &data[..2 * CHUNK], 0);
    ada.send(&ClientFrame::Ping { nonce: 1 });
    next_app(&mut ada);
    s.kill9();
    let files = dir.0.join("files");
    let visible: Vec<_> =
        std::fs::read_dir(&files).expect("files dir").flatten().map(|e| e.file_name()).collect();
    assert_eq!(visible, ["tmp"], "only the temporary directory");
    let s = files_server(&dir, &["--db", &db]);
    assert_eq!(
        std::fs::read_dir(files.join("tmp")).expect("tmp").count(),
        0,
        "leftovers removed at start"
    );
    let mut ada = account(&s, "ada", false);
    join(&mut ada, "lobby", "lobby", 0, 0);
    upload(&mut ada, 1, "lobby", "half.bin", &data);
    assert!(files.join(&sha(&data)[..2]).exists());
}

#[test]
fn chat_gets_through_while_a_large_file_moves() {
    let dir = TempDir::new("files-chat");
    let s = files_server(&dir, &[]);
    let mut ada = account(&s, "ada", true);
    let mut bob = s.login("bob");
    join(&mut ada, "lobby", "lobby", 0, 0);
    join(&mut bob, "lobby", "lobby", 0, 0);
    next_app(&mut ada);
    let data = bytes(16 << 20);
    upload(&mut ada, 1, "lobby", "large.bin", &data);
    let f = file_msg(&mut bob);
    bob.send(&ClientFrame::Fetch { file: f.file.clone(), offset: 0 });
    let mut got = 0u64;
    let mut said = false;
    let mut heard_at = None;
    loop {
        match next_app_within(&mut bob, HASH_WAIT) {
            ServerFrame::FileData { data, last, .. } => {
                got += data.len() as u64;
                if !said && got > 1 << 20 {
                    say(&mut ada, "lobby", 2, "still here?");
                    said = true;
                }
                if last == 1 {
                    break;
                }
            }
            ServerFrame::Msg { text, .. } => {
                assert_eq!(text, "still here?");
                heard_at = Some(got);
            }
            f => panic!("{f:?}"),
        }
    }
    assert_eq!(got, 16 << 20);
    let at = heard_at.expect("the chat message arrived during the download");
    assert!(at < (16 << 20), "before the download's end: chat goes first");
}
