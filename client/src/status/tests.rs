//! Unit tests of the status bar text.

use super::*;

fn win(n: usize, name: &str, unread: usize, mentions: usize) -> Win {
    Win { n, name: name.into(), unread, mentions, current: n == 1 }
}

fn info(phase: Phase) -> StatusInfo<'static> {
    StatusInfo {
        phase,
        max: 3,
        lag: Some(Duration::from_millis(4)),
        room: Some("lobby"),
        members: 3,
        typing: vec!["bob"],
        unsent: 0,
        transfers: None,
        windows: vec![win(1, "lobby", 0, 0), win(2, "dev", 2, 0), win(3, "ops", 5, 1)],
    }
}

#[test]
fn connected_line() {
    let t = status_text(&info(Phase::Connected), Instant::now(), 200);
    assert_eq!(
        t,
        " connected | #lobby, 3 members | [1:lobby] 2:dev(2) 3:ops(5!) | bob is typing | lag 4 ms"
    );
    let mut one = info(Phase::Connected);
    one.members = 1;
    one.windows.truncate(1);
    let t = status_text(&one, Instant::now(), 200);
    assert_eq!(t, " connected | #lobby, 1 member | bob is typing | lag 4 ms");
}

#[test]
fn a_narrow_bar_keeps_the_activity() {
    for width in [40, 50, 60] {
        let t = status_text(&info(Phase::Connected), Instant::now(), width);
        assert!(str_width(&t) <= width, "{width}: {t}");
        assert!(t.contains("2:dev(2)") && t.contains("3:ops(5!)"), "{width}: {t}");
    }
}

#[test]
fn reconnect_countdown() {
    let now = Instant::now();
    let p = Phase::Waiting { until: now + Duration::from_millis(2300), attempt: 2 };
    let t = status_text(&info(p), now, 200);
    assert!(t.starts_with(" reconnecting in 3 s, attempt 2 of 3"), "{t}");
    assert!(!t.contains("lag"), "no lag while disconnected");
    assert_eq!(next_tick(p, now), Some(now + Duration::from_millis(300)));
    assert_eq!(next_tick(Phase::Connected, now), None);
    assert_eq!(phase_text(Phase::Offline, 3, now), "offline (Ctrl-R: retry)");
    assert_eq!(phase_text(Phase::Connecting { attempt: 1 }, 0, now), "reconnecting, attempt 1");
}

#[test]
fn a_conversation_is_named_without_a_hash_or_members() {
    let mut i = info(Phase::Connected);
    i.room = Some("@bob");
    i.windows = vec![win(1, "lobby", 0, 0), win(2, "@bob", 3, 3)];
    let t = status_text(&i, Instant::now(), 200);
    assert!(t.starts_with(" connected | @bob (private) | [1:lobby] 2:@bob(3!) |"), "{t}");
}

#[test]
fn files_moving_stay_in_a_narrow_bar() {
    let mut i = info(Phase::Connected);
    i.transfers = Some("\u{2191} notes.txt 45%".into());
    let t = status_text(&i, Instant::now(), 200);
    assert!(t.contains("3:ops(5!) | \u{2191} notes.txt 45% | bob is typing"), "{t}");
    let t = status_text(&i, Instant::now(), 60);
    assert!(t.contains("\u{2191} notes.txt 45%") && str_width(&t) <= 60, "{t}");
}
