//! File sharing in process (§10): the core's side of uploads and downloads,
//! with the file workers' answers given by hand.

use super::*;
use crate::files::{FileDone, FileJob};
use banter_proto::{ErrorCode, FLAG_FILE};

const HASH: &str = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";

fn kit(extra: &[&str]) -> Kit {
    let mut args = vec!["--files", "/nonexistent/files", "--rate", "0"];
    args.extend_from_slice(extra);
    Kit::new(&args)
}

fn upload(seq: u32, room: &str, name: &str, size: u64) -> ClientFrame {
    ClientFrame::Upload {
        seq,
        room: room.into(),
        name: name.into(),
        size,
        mime: "text/plain".into(),
    }
}

fn chunk(seq: u32, offset: u64, data: &[u8]) -> ClientFrame {
    ClientFrame::Chunk { seq, offset, data: data.to_vec() }
}

fn jobs(k: &mut Kit) -> Vec<FileJob> {
    let mut j = Vec::new();
    k.core.take_file_jobs(&mut j);
    j
}

/// Answers every Write with Written and every Finish with `HASH`.
fn work(k: &mut Kit) {
    for j in jobs(k) {
        match j {
            FileJob::Write { id, data, .. } => {
                k.core.file_done(FileDone::Written { id, bytes: data.len() as u64 })
            }
            FileJob::Finish { id } => {
                k.core.file_done(FileDone::Finished { id, hash: HASH.into() })
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

fn errors(frames: &[ServerFrame]) -> Vec<(ErrorCode, u32)> {
    frames
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Error { code, seq, .. } => {
                Some((ErrorCode::from_code(*code).expect("known"), *seq))
            }
            _ => None,
        })
        .collect()
}

/// ada (an account) and bob in room `r`.
fn pair(k: &mut Kit) -> (PeerId, PeerId) {
    let ada = k.account("ada");
    let bob = k.member("bob", "r");
    k.send(ada, ClientFrame::Join { room: "r".into(), since: 0, limit: 0 });
    k.recv(ada);
    k.recv(bob);
    (ada, bob)
}

#[test]
fn an_upload_becomes_a_file_message_and_an_ack() {
    let mut k = kit(&[]);
    let (ada, bob) = pair(&mut k);
    k.send(ada, upload(5, "r", "hello.txt", 11));
    assert_eq!(k.recv(ada), [ServerFrame::UploadReady { seq: 5, offset: 0 }]);
    k.send(ada, chunk(5, 0, b"hello "));
    k.send(ada, chunk(5, 6, b"world"));
    work(&mut k); // the writes
    work(&mut k); // the finish
    k.turn();
    assert!(matches!(&k.recv(ada)[..], [ServerFrame::Ack { seq: 5, id: 1, .. }]));
    match &k.recv(bob)[..] {
        [ServerFrame::Msg { text, flags, file: Some(f), .. }] => {
            assert_eq!(
                (text.as_str(), *flags & FLAG_FILE, f.size, f.file.as_str()),
                ("hello.txt", FLAG_FILE, 11, HASH)
            );
        }
        other => panic!("{other:?}"),
    }
    k.send(ada, upload(5, "r", "again.txt", 3));
    assert!(
        matches!(&k.recv(ada)[..], [ServerFrame::Ack { seq: 5, id: 1, .. }]),
        "a finished seq: its ACK again"
    );
}

#[test]
fn refusals_come_in_the_spec_order() {
    let mut off = Kit::new(&[]);
    let a = off.account("ada");
    off.send(a, upload(1, "r", "x", 1));
    assert_eq!(errors(&off.recv(a)), [(ErrorCode::FileRefused, 1)], "files off");
    let mut k = kit(&["--max-file", "100", "--file-quota", "250"]);
    let guest = k.member("guest", "r");
    k.send(guest, upload(1, "r", "x", 1));
    assert_eq!(errors(&k.recv(guest)), [(ErrorCode::FileRefused, 1)], "a guest");
    let ada = k.account("ada");
    for (seq, name, size) in
        [(2, "", 1), (3, "a/b", 1), (4, "x\u{7}", 1), (5, "x", 0), (6, "x", 101)]
    {
        k.send(ada, upload(seq, "r", name, size));
        assert_eq!(errors(&k.recv(ada)), [(ErrorCode::FileRefused, seq)], "{name:?} {size}");
    }
    k.send(ada, upload(7, "r", "x", 100));
    assert_eq!(errors(&k.recv(ada)), [(ErrorCode::NotInRoom, 7)], "not a member comes last");
    k.send(ada, ClientFrame::Join { room: "r".into(), since: 0, limit: 0 });
    k.recv(ada);
    for seq in 8..=9 {
        k.send(ada, upload(seq, "r", "x", 100));
    }
    k.send(ada, upload(10, "r", "x", 100));
    let got = k.recv(ada);
    assert_eq!(
        errors(&got),
        [(ErrorCode::FileRefused, 10)],
        "the quota counts unfinished uploads: {got:?}"
    );
    for seq in 11..=12 {
        k.send(ada, upload(seq, "r", "x", 1));
    }
    k.send(ada, upload(13, "r", "x", 1));
    assert_eq!(errors(&k.recv(ada)), [(ErrorCode::FileRefused, 13)], "at most 4 unfinished");
}

#[test]
fn chunks_must_follow_in_order_within_the_size() {
    let mut k = kit(&[]);
    let (ada, _) = pair(&mut k);
    k.send(ada, upload(1, "r", "f", 10));
    k.recv(ada);
    k.send(ada, chunk(1, 3, b"abc"));
    k.send(ada, chunk(2, 0, b"abc"));
    k.send(ada, chunk(1, 0, b"0123456789x"));
    assert_eq!(
        errors(&k.recv(ada)),
        [(ErrorCode::BadFrame, 1), (ErrorCode::BadFrame, 2), (ErrorCode::BadFrame, 1)]
    );
    k.send(ada, chunk(1, 0, b"01234"));
    k.send(ada, upload(1, "r", "f", 10)); // after a reconnect: where to go on from
    assert_eq!(k.recv(ada), [ServerFrame::UploadReady { seq: 1, offset: 5 }]);
}

#[test]
fn an_idle_upload_ends_after_ten_minutes() {
    let mut k = kit(&["--heartbeat-ms", "1000000"]);
    let (ada, _) = pair(&mut k);
    k.send(ada, upload(1, "r", "f", 10));
    k.send(ada, chunk(1, 0, b"01234"));
    k.recv(ada);
    work(&mut k);
    k.advance(9 * 60 * 1000);
    k.send(ada, chunk(1, 5, b"5"));
    work(&mut k);
    k.advance(9 * 60 * 1000 + 59_000);
    assert!(jobs(&mut k).is_empty(), "a CHUNK restarted the ten minutes");
    k.advance(2_000);
    assert!(matches!(&jobs(&mut k)[..], [FileJob::Abort { .. }]));
    k.send(ada, chunk(1, 6, b"6"));
    assert_eq!(errors(&k.recv(ada)), [(ErrorCode::BadFrame, 1)]);
}

#[test]
fn an_upload_the_disk_lags_behind_stops_reading_the_peer() {
    let mut k = kit(&["--max-frame", "1048576", "--out-limit", "4194304"]);
    let (ada, _) = pair(&mut k);
    k.core.take_resumed(&mut Vec::new()); // the sign-in's
    k.send(ada, upload(1, "r", "big", 8 << 20));
    k.recv(ada);
    let piece = vec![7u8; 1000 * 1024];
    for i in 0..4 {
        k.send(ada, chunk(1, i * piece.len() as u64, &piece));
        assert!(k.core.wants_input(ada), "{} KiB on the way", (i + 1) * 1000);
    }
    k.send(ada, chunk(1, 4 * piece.len() as u64, &piece));
    assert!(!k.core.wants_input(ada), "5000 KiB not on disk yet");
    work(&mut k);
    assert!(k.core.wants_input(ada));
    let mut resumed = Vec::new();
    k.core.take_resumed(&mut resumed);
    assert_eq!(resumed, [ada], "the reactor is told to read it again");
}

#[test]
fn all_uploads_together_are_held_to_one_budget() {
    let mut k = kit(&["--max-frame", "1048576", "--out-limit", "4194304", "--max-per-ip", "0"]);
    let piece = vec![7u8; 1000 * 1024];
    let mut uploaders = Vec::new();
    // Nine accounts, each within its own window (4 000 KiB on the way),
    // 36 000 KiB together: past the 32 MiB all may hold.
    for n in 0..9 {
        let p = k.account(&format!("up{n}"));
        k.send(p, ClientFrame::Join { room: "r".into(), since: 0, limit: 0 });
        k.send(p, upload(1, "r", "big", 8 << 20));
        k.recv(p);
        for i in 0..4 {
            k.send(p, chunk(1, i * piece.len() as u64, &piece));
        }
        uploaders.push(p);
    }
    k.core.take_resumed(&mut Vec::new());
    for &p in &uploaders {
        assert!(!k.core.wants_input(p), "every uploader waits for the disk");
    }
    let chatter = k.member("cy", "r");
    assert!(k.core.wants_input(chatter), "no upload, no wait");
    work(&mut k);
    let mut resumed = Vec::new();
    k.core.take_resumed(&mut resumed);
    resumed.sort_unstable();
    assert_eq!(resumed, uploaders, "each is read again once the disk caught up");
    assert!(uploaders.iter().all(|&p| k.core.wants_input(p)));
}

#[test]
fn fetch_is_for_members_and_paced_by_the_output() {
    let mut k = kit(&[]);
    let (ada, bob) = pair(&mut k);
    k.send(ada, upload(1, "r", "f", 200_000));
    let data = vec![1u8; 200_000];
    for (i, piece) in data.chunks(50_000).enumerate() {
        k.send(ada, chunk(1, (i * 50_000) as u64, piece));
    }
    work(&mut k);
    work(&mut k);
    k.turn();
    let eve = k.member("eve", "elsewhere");
    k.send(eve, ClientFrame::Fetch { file: HASH.into(), offset: 0 });
    assert_eq!(errors(&k.recv(eve)), [(ErrorCode::FileUnknown, 0)]);
    k.recv(bob);
    k.send(bob, ClientFrame::Fetch { file: HASH.into(), offset: 200_001 });
    assert_eq!(errors(&k.recv(bob)), [(ErrorCode::BadFrame, 0)]);
    k.send(bob, ClientFrame::Fetch { file: HASH.into(), offset: 0 });
    let reads: Vec<(u64, u64, usize)> = jobs(&mut k)
        .into_iter()
        .map(|j| match j {
            FileJob::Read { id, offset, len, .. } => (id, offset, len),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(reads.len(), 4, "reads ahead, bounded");
    assert_eq!(reads.iter().map(|r| r.2).sum::<usize>(), 200_000);
    for (id, offset, len) in reads {
        k.core.file_done(FileDone::Data { id, offset, data: vec![1; len] });
    }
    let got = k.recv(bob);
    let pieces: Vec<(u64, u8)> = got
        .iter()
        .map(|f| match f {
            ServerFrame::FileData { offset, last, data, .. } => {
                (*offset + data.len() as u64, *last)
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(pieces.last(), Some(&(200_000, 1)));
    k.send(bob, ClientFrame::Fetch { file: HASH.into(), offset: 200_000 });
    assert!(
        matches!(&k.recv(bob)[..], [ServerFrame::FileData { last: 1, data, .. }] if data.is_empty())
    );
}

/// One upload of two large CHUNKs with a SAY between them, as one stream
/// cut into reads of `size` bytes: the chunks' bytes and the answers.
fn cut_into_reads(size: usize) -> (Vec<u8>, Vec<ServerFrame>) {
    let mut k = kit(&[]);
    let (ada, _bob) = pair(&mut k);
    let a: Vec<u8> = (0..65_000u32).map(|i| (i % 251) as u8).collect();
    let b: Vec<u8> = (0..40_000u32).map(|i| (i % 241) as u8).collect();
    let mut stream = upload(5, "r", "big.bin", (a.len() + b.len()) as u64).to_bytes();
    stream.extend(chunk(5, 0, &a).to_bytes());
    stream.extend(say("r", 6, "between the chunks").to_bytes());
    stream.extend(chunk(5, a.len() as u64, &b).to_bytes());
    for piece in stream.chunks(size) {
        k.send_raw(ada, piece);
    }
    let mut written = Vec::new();
    for j in jobs(&mut k) {
        let FileJob::Write { id, data, .. } = j else { panic!("{j:?}") };
        k.core.file_done(FileDone::Written { id, bytes: data.len() as u64 });
        written.extend(data);
    }
    k.turn();
    (written, k.recv(ada))
}

#[test]
fn chunks_cut_anywhere_across_reads_arrive_whole_and_in_order() {
    let (want, answers) = cut_into_reads(1 << 20);
    assert_eq!(want.len(), 105_000);
    assert!(matches!(answers[0], ServerFrame::UploadReady { seq: 5, offset: 0 }), "{answers:?}");
    assert!(answers.iter().any(|f| matches!(f, ServerFrame::Ack { seq: 6, .. })), "{answers:?}");
    for size in [1, 3, 4, 5, 1000, 4096, 65_536, 65_541, 70_000] {
        assert_eq!(cut_into_reads(size), (want.clone(), answers.clone()), "reads of {size}");
    }
}
