//! The harness on inputs of its own: the minimised findings of the fuzz
//! runs (`fuzz/regressions/core/`, each once a crash or a broken invariant)
//! and a few thousand pseudo-random inputs, so `cargo test` replays what
//! fuzzing found and covers the usual paths without cargo-fuzz.

use super::run;

#[test]
fn fuzz_findings_stay_fixed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/core");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/regressions/core") {
        let path = entry.expect("entry").path();
        let data = std::fs::read(&path).expect("read");
        if let Err(e) = run(&data) {
            panic!("{}: {e}", path.display());
        }
        n += 1;
    }
    assert!(n > 0, "no regression inputs in {}", dir.display());
}

#[test]
fn pseudo_random_inputs_keep_every_invariant() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut all = super::Reached::default();
    let cases = std::env::var("HARNESS_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(1500);
    for case in 0..cases {
        let len = 50 + (next() % 1500) as usize;
        let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        match run(&data) {
            Ok(r) => {
                all.welcomes += r.welcomes;
                all.joins += r.joins;
                all.messages += r.messages;
                all.fatal += r.fatal;
            }
            Err(e) => {
                let path = std::env::temp_dir().join(format!("banterd-harness-case-{case}"));
                let _ = std::fs::write(&path, &data);
                panic!("case {case}: {e} (input in {})", path.display());
            }
        }
    }
    eprintln!("{all:?}");
}

/// Writes the 16 pseudo-random inputs that reach most messages to
/// `fuzz/corpus/core/` as the fuzzer's seeds (run by hand:
/// `cargo test -p banterd --release write_seed_corpus -- --ignored`).
#[test]
#[ignore]
fn write_seed_corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/core");
    std::fs::create_dir_all(&dir).expect("corpus dir");
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut best: Vec<(usize, Vec<u8>)> = Vec::new();
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut y = x;
        let len = 100 + (y % 900) as usize;
        let data: Vec<u8> = (0..len)
            .map(|_| {
                y ^= y << 13;
                y ^= y >> 7;
                y ^= y << 17;
                y as u8
            })
            .collect();
        let reached = run(&data).expect("no broken invariant").messages;
        best.push((reached, data));
        best.sort_by_key(|b| std::cmp::Reverse(b.0));
        best.truncate(16);
    }
    for (i, (_, data)) in best.iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{i:02}")), data).expect("write seed");
    }
}
