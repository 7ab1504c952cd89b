use super::*;

/// A fresh directory under the system's temporary one.
fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("banter-dl-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn sha(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

fn listing(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn download(d: &Path, data: &[u8], name: &str) -> Download {
    let hash = sha(data);
    Download::start(1, (&hash, name, data.len() as u64), d.to_path_buf(), safe_name(name)).unwrap()
}

#[test]
fn pieces_are_written_once_and_kept_under_a_free_name() {
    let d = dir("keep");
    std::fs::write(d.join("notes.txt"), b"mine").unwrap();
    let data = b"0123456789abcdef".to_vec();
    let mut dl = download(&d, &data, "notes.txt");
    assert!(matches!(dl.fetch(), ClientFrame::Fetch { offset: 0, .. }));
    assert_eq!(dl.data(0, false, &data[..6]), Ok(Step::More));
    assert_eq!(dl.data(10, false, &data[10..12]), Ok(Step::Refetch), "a gap");
    assert!(matches!(dl.refetch(), ClientFrame::Fetch { offset: 6, .. }));
    assert_eq!(dl.data(12, false, &data[12..14]), Ok(Step::More), "the old answer goes on");
    assert_eq!(dl.data(4, false, &data[4..10]), Ok(Step::More), "overlap: only 6..10 is new");
    assert_eq!(dl.data(0, false, &data[..3]), Ok(Step::More), "a piece we have whole");
    assert_eq!(dl.data(10, true, &data[10..]), Ok(Step::Done));
    let saved = dl.finish().unwrap();
    assert_eq!(saved, d.join("notes (1).txt"));
    assert_eq!(std::fs::read(&saved).unwrap(), data);
    assert_eq!(std::fs::read(d.join("notes.txt")).unwrap(), b"mine", "never overwritten");
    drop(dl);
    let mut again = download(&d, &data, "notes.txt");
    again.data(0, true, &data).unwrap();
    assert_eq!(again.finish().unwrap(), d.join("notes (2).txt"));
    drop(again);
    assert_eq!(listing(&d), ["notes (1).txt", "notes (2).txt", "notes.txt"], "no leftovers");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn damaged_short_or_long_files_are_not_kept() {
    let d = dir("bad");
    let data = b"the real bytes".to_vec();
    let mut dl = download(&d, &data, "x.bin");
    assert_eq!(dl.data(0, true, b"the fake bytes"), Ok(Step::Done));
    assert!(dl.finish().unwrap_err().contains("damaged"));
    drop(dl);
    let mut dl = download(&d, &data, "x.bin");
    assert!(dl.data(0, true, &data[..3]).unwrap_err().contains("ended the file at 3 of 14"));
    assert!(dl.data(10, false, &[0; 10]).unwrap_err().contains("more bytes than the file has"));
    drop(dl);
    assert_eq!(listing(&d), Vec::<String>::new(), "nothing kept, no temporary file left");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn hostile_names_stay_inside_the_directory() {
    let d = dir("hostile");
    let inner = d.join("inner");
    std::fs::create_dir(&inner).unwrap();
    for name in ["../escape", "..", "/etc/passwd", ".hidden", "..\\x", "a/../../b"] {
        let mut dl = download(&inner, name.as_bytes(), name);
        dl.data(0, true, name.as_bytes()).unwrap();
        let saved = dl.finish().unwrap();
        assert_eq!(saved.parent(), Some(inner.as_path()), "{name:?} -> {saved:?}");
    }
    assert_eq!(listing(&d), ["inner"], "nothing outside");
    let names = listing(&inner);
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    assert_eq!(names.len(), 6, "{names:?}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_full_disk_is_said_so() {
    let d = dir("full");
    let mut dl = download(&d, b"abc", "x");
    // The bytes go to /dev/full; the path that would be removed is a
    // harmless one of ours, never the device.
    let full = OpenOptions::new().write(true).open("/dev/full").unwrap();
    dl.temp = Some((d.join("stand-in.part"), full));
    let e = dl.data(0, true, b"abc").unwrap_err();
    assert!(e.starts_with("the disk is full: could not write "), "{e}");
    let e = write_error(Path::new("/x"), &io::Error::from_raw_os_error(libc::EACCES));
    assert_eq!(e, "could not write /x: permission denied");
    drop(dl);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn destinations() {
    let d = dir("dest");
    let ds = d.to_str().unwrap();
    assert_eq!(destination(Some(ds), "a/b").unwrap(), (d.clone(), "a_b".into()));
    let named = format!("{ds}/report.pdf");
    assert_eq!(destination(Some(&named), "x").unwrap(), (d.clone(), "report.pdf".into()));
    let hidden = format!("{ds}/..");
    assert_eq!(destination(Some(&hidden), "x").unwrap().1, "x", "a directory: the posted name");
    for bad in [format!("{ds}/nope/"), format!("{ds}/nope/x.txt")] {
        assert!(destination(Some(&bad), "x").unwrap_err().ends_with("no such directory"), "{bad}");
    }
    let (cwd, name) = destination(None, "..").unwrap();
    assert_eq!((cwd, name.as_str()), (std::env::current_dir().unwrap(), "file"));
    std::fs::remove_dir_all(&d).unwrap();
}
