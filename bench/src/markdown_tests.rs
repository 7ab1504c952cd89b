//! Tests of the comparison's table cells.

use super::*;

fn run(sent: f64, lost: u64, busy: bool) -> Result<Figures, String> {
    Ok(vec![
        ("scenario", Val::Text("fanout".into())),
        ("sent_per_s", Val::Num(sent)),
        ("lost", Val::Int(lost)),
        ("harness_bottleneck", Val::Bool(busy)),
    ])
}

fn disturbed(sent: f64, pct: f64) -> Result<Figures, String> {
    let mut f = run(sent, 0, false).unwrap();
    f.push(("other_cpu_pct", Val::Num(pct)));
    f.push(("other_process", Val::Text("rustc (42)".into())));
    f.push(("disturbed", Val::Bool(pct > report::DISTURBED_PCT)));
    Ok(f)
}

#[test]
fn medians_ratios_spreads_and_flags() {
    let sec = Section::new("t", "Redis", "Banter");
    let mut row = Row::new("banter-bench fanout --target URL -r 100 -s 10 -b 64 -w 4".into());
    row.base = vec![run(10.0, 0, false), run(30.0, 0, false), run(20.0, 0, false)];
    row.ours = vec![run(40.0, 0, false), Err("boom".into()), run(60.0, 2, true)];
    assert_eq!(median(&row.base, "sent_per_s"), Some(20.0));
    assert_eq!(median(&row.ours, "sent_per_s"), Some(50.0));
    assert_eq!(triple(&sec, &row, "sent_per_s"), "20 | 50 | 2.50");
    assert_eq!(spreads(&sec, &row, "sent_per_s"), "100% / 40%");
    assert_eq!(config(&row), "100 | 64 | 10 | 4");
    let f = flags(&sec, &row);
    assert!(f.contains("Banter: 2 lost") && f.contains("harness busy"), "{f}");
    assert!(f.contains("failed run (boom)") && !f.contains("Redis"), "{f}");
    row.ours.clear();
    assert_eq!(triple(&sec, &row, "sent_per_s"), "20 | failed | -");
}

#[test]
fn a_side_that_cannot_run_is_na_not_failed() {
    let mut sec = Section::new("t", "Redis TLS", "Banter TLS");
    sec.ours_na = Some("n/a (server lacks TLS)".into());
    let mut row = Row::new("x".into());
    row.base = vec![run(10.0, 0, false)];
    assert_eq!(triple(&sec, &row, "sent_per_s"), "10 | n/a | -");
    assert_eq!(spreads(&sec, &row, "sent_per_s"), "- / n/a");
    assert_eq!(flags(&sec, &row), "Banter TLS: n/a");
}

#[test]
fn disturbed_runs_are_counted_and_named() {
    let sec = Section::new("t", "Redis", "Banter");
    let mut row = Row::new("x".into());
    row.base = vec![disturbed(10.0, 2.0), disturbed(11.0, 37.0)];
    row.ours = vec![disturbed(12.0, 1.0)];
    assert_eq!(row.disturbed_runs(), 1);
    row.attempts = 3;
    let f = flags(&sec, &row);
    assert!(f.contains("Redis: disturbed by rustc (42) 37%"), "{f}");
    assert!(f.contains("measured 3 times"), "{f}");
    assert!(headline(&row.base[1].clone().unwrap()).contains("disturbed: rustc (42) 37%"));
}

#[test]
fn numbers_read_well() {
    assert_eq!(fmt(Some(1234567.0)), "1\u{202f}234\u{202f}567");
    assert_eq!(fmt(Some(12.4)), "12");
    assert_eq!(fmt(Some(0.456)), "0.46");
    assert_eq!(fmt(None), "failed");
    assert_eq!(spread(&[run(5.0, 0, false)], "sent_per_s"), None, "one run has no spread");
}
