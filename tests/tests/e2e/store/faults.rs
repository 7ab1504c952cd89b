//! Storage faults: a database that cannot be opened, is not Banter's, is
//! newer than this build, is corrupt or is locked by another `banterd` stops
//! start-up with a one-line reason and a non-zero exit; a write the disk
//! refuses (a full tmpfs) gets ERROR STORAGE for each SAY, no ACK and no
//! MSG, and the server goes on once there is room again.

use super::*;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// Runs `banterd --port 0 --db db` plus `extra`, which must exit non-zero
/// within 10 s; returns the `banterd: ` line of its stderr.
fn startup_error(db: &Path, extra: &[&str]) -> String {
    let mut child = Command::new(bin("banterd"))
        .args(["--bind", "127.0.0.1", "--port", "0", "--db"])
        .arg(db)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn banterd");
    let end = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("banterd kept running on {}", db.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
    assert!(!status.success(), "exit status {status:?}; stderr {err}");
    let line = err.lines().find(|l| l.starts_with("banterd: "));
    line.unwrap_or_else(|| panic!("no 'banterd:' line in {err:?}")).to_string()
}

/// A Banter database with one message, cleanly shut down (no WAL left).
fn make_db(dir: &TempDir) -> std::path::PathBuf {
    let mut s = start_db(dir, &[]);
    let mut ada = s.login("ada");
    join(&mut ada, "lobby", 0, 0);
    say(&mut ada, "lobby", 1, "hello");
    drop(ada);
    stop(&mut s);
    dir.0.join("banter.db")
}

/// Overwrites the 4 big-endian header bytes at `at` of an SQLite file.
fn patch_header(db: &Path, at: usize, value: u32) {
    let mut bytes = std::fs::read(db).expect("read db");
    bytes[at..at + 4].copy_from_slice(&value.to_be_bytes());
    std::fs::write(db, bytes).expect("write db");
}

#[test]
fn unopenable_paths_stop_start_up() {
    let dir = TempDir::new("store-unopenable");
    let missing = dir.0.join("no/such/dir/banter.db");
    let line = startup_error(&missing, &[]);
    assert!(line.contains("cannot open"), "{line}");
    assert!(line.contains("no/such/dir"), "names the path: {line}");
    let line = startup_error(&dir.0, &[]);
    assert!(line.contains("cannot open"), "a directory: {line}");
}

#[test]
fn foreign_and_newer_files_stop_start_up() {
    let dir = TempDir::new("store-foreign");
    let text = dir.0.join("notes.txt");
    std::fs::write(&text, "just some text, long enough to look like a file\n").unwrap();
    let line = startup_error(&text, &[]);
    assert!(line.contains("not a Banter database"), "{line}");
    assert_eq!(std::fs::read(&text).unwrap().len(), 48, "left untouched");

    let db = make_db(&dir);
    // SQLite header: user_version at byte 60, application_id at byte 68.
    patch_header(&db, 60, 99);
    let line = startup_error(&db, &[]);
    assert!(line.contains("newer"), "{line}");
    patch_header(&db, 60, 1);
    patch_header(&db, 68, 0x1234_5678);
    let line = startup_error(&db, &[]);
    assert!(line.contains("not a Banter database"), "{line}");
    patch_header(&db, 68, 0);
    let line = startup_error(&db, &[]);
    assert!(line.contains("not a Banter database"), "other tables: {line}");
}

#[test]
fn a_corrupt_database_stops_start_up() {
    let dir = TempDir::new("store-corrupt");
    let db = make_db(&dir);
    let mut bytes = std::fs::read(&db).unwrap();
    for b in bytes.iter_mut().skip(100).take(3000) {
        *b = 0xA5;
    }
    std::fs::write(&db, bytes).unwrap();
    let line = startup_error(&db, &[]);
    assert!(line.contains("corrupt"), "{line}");
}

#[test]
fn a_second_banterd_on_the_same_database_fails_fast() {
    let dir = TempDir::new("store-locked");
    let first = start_db(&dir, &[]);
    let start = Instant::now();
    let line = startup_error(&dir.0.join("banter.db"), &[]);
    assert!(line.contains("locked"), "{line}");
    assert!(start.elapsed() < Duration::from_secs(5), "fails fast");
    let mut ada = first.login("ada");
    join(&mut ada, "lobby", 0, 0);
    say(&mut ada, "lobby", 1, "the first one still works");
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted on drop.
struct SmallFs(TempDir);

impl SmallFs {
    /// `None` (and a message) where mounting is not permitted.
    fn mount(size: &str) -> Option<SmallFs> {
        let dir = TempDir::new("store-smallfs");
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir.0)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("SKIPPED: cannot mount a tmpfs here (needs root)");
        }
        ok.then_some(SmallFs(dir))
    }

    fn remount_read_only(&self) -> bool {
        let o = "remount,ro";
        let st = Command::new("mount").args(["-o", o]).arg(&self.0 .0).status();
        st.is_ok_and(|s| s.success())
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0 .0).status();
    }
}

/// Fills the filesystem holding `dir` until it refuses a write.
fn fill(dir: &Path) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).expect("create filler");
    let chunk = vec![0u8; 4096];
    while f.write_all(&chunk).and_then(|()| f.sync_all()).is_ok() {}
    path
}

#[test]
fn a_read_only_filesystem_stops_start_up() {
    let Some(fs) = SmallFs::mount("4m") else {
        return;
    };
    make_db(&fs.0);
    assert!(fs.remount_read_only(), "remount read-only");
    let line = startup_error(&fs.0 .0.join("banter.db"), &[]);
    assert!(line.contains("cannot open"), "{line}");
}

#[test]
fn a_full_disk_refuses_says_with_storage_and_recovers() {
    let Some(fs) = SmallFs::mount("1m") else {
        return;
    };
    let mut s = start_db(&fs.0, &[]);
    let mut ada = s.login("ada");
    let mut bob = s.login("bob");
    join(&mut bob, "lobby", 0, 0);
    join(&mut ada, "lobby", 0, 0);
    bob.recv_app(); // PRESENCE ada joined
    assert_eq!(say(&mut ada, "lobby", 1, "before").0, 1);
    assert!(matches!(bob.recv_app(), ServerFrame::Msg { id: 1, .. }));

    let filler = fill(&fs.0 .0);
    let big = "y".repeat(4000);
    ada.send(&say_f("lobby", 2, &big));
    expect_error(&mut ada, ErrorCode::Storage, types::SAY, 2);
    // Two in one write: each is refused on its own.
    let mut two = say_f("lobby", 3, &big).to_bytes();
    say_f("lobby", 4, &big).encode(&mut two);
    ada.send_raw(&two);
    expect_error(&mut ada, ErrorCode::Storage, types::SAY, 3);
    expect_error(&mut ada, ErrorCode::Storage, types::SAY, 4);
    ada.expect_silence(Duration::from_millis(300));
    bob.expect_silence(Duration::from_millis(300));

    std::fs::remove_file(filler).expect("free the space");
    assert_eq!(say(&mut ada, "lobby", 5, &big).0, 2, "no id was used up");
    assert!(matches!(bob.recv_app(), ServerFrame::Msg { id: 2, .. }));
    drop((ada, bob));
    stop(&mut s);
    let s = start_db(&fs.0, &[]);
    let mut carol = s.login("carol");
    join(&mut carol, "lobby", 0, 0);
    let stored = all_history(&mut carol, "lobby");
    let want = vec![(1, "ada".to_string(), "before".to_string()), (2, "ada".to_string(), big)];
    assert_eq!(stored, want);
}
