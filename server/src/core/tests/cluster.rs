//! The core's side of a cluster, in-process: the test plays Redis by hand,
//! answering each script the core asks for as Redis would and feeding
//! channel events, so the ordering rules (gaps filled from the log, repeats
//! dropped, steps owed across a lost link) are checked without a socket.

use super::{hello, Kit};
use crate::cluster::event::Event;
use crate::cluster::resp::Value;
use crate::cluster::scripts::Script;
use crate::cluster::{Input, Op};
use crate::core::PeerId;
use banter_proto::{ClientFrame, ServerFrame};

/// A script the core asked for.
struct Eval {
    tag: u64,
    script: Script,
    args: Vec<String>,
}

fn node() -> Kit {
    Kit::new(&["--cluster", "redis://127.0.0.1:1", "--node-id", "n1"])
}

/// The scripts the core asks for now; its SUBSCRIBEs take effect at once.
fn evals(k: &mut Kit) -> Vec<Eval> {
    let mut out = Vec::new();
    loop {
        let mut ops = Vec::new();
        k.core.take_cluster_ops(&mut ops);
        if ops.is_empty() {
            return out;
        }
        for op in ops {
            match op {
                Op::Eval { tag, script, args } => {
                    let args = args.iter().map(|a| String::from_utf8_lossy(a).into()).collect();
                    out.push(Eval { tag, script, args });
                }
                Op::Subscribe { channel } => k.core.cluster_input(Input::Subscribed(channel)),
                Op::Unsubscribe { .. } => {}
            }
        }
    }
}

/// The one script asked for now, which must be `script`.
fn one(k: &mut Kit, script: Script) -> Eval {
    let mut e = evals(k);
    assert_eq!(e.len(), 1, "{:?}", e.iter().map(|x| x.script).collect::<Vec<_>>());
    let e = e.remove(0);
    assert_eq!(e.script, script);
    e
}

fn bulk(s: &str) -> Value {
    Value::Bulk(Some(s.as_bytes().to_vec()))
}

fn arr(v: Vec<Value>) -> Value {
    Value::Array(Some(v))
}

fn reply(k: &mut Kit, e: &Eval, v: Value) {
    k.core.cluster_input(Input::Reply(e.tag, v));
}

/// `name` signed in as a guest: its peer and global session id.
fn sign_in(k: &mut Kit, name: &str) -> (PeerId, String) {
    let p = k.connect();
    k.send(p, hello(name, "", 0));
    let e = one(k, Script::Lookup);
    reply(k, &e, arr(vec![Value::Bulk(None), Value::Bulk(None), Value::Bulk(None)]));
    let e = one(k, Script::Claim);
    let sid = e.args[1].clone();
    reply(k, &e, arr(vec![bulk("new"), bulk(&sid), Value::Int(1)]));
    assert!(matches!(k.recv(p).first(), Some(ServerFrame::Welcome { .. })));
    (p, sid)
}

/// `p` joins `room`, whose newest id is `last` as of event `ev`.
fn join(k: &mut Kit, p: PeerId, room: &str, name: &str, ev: i64, last: i64) {
    k.send(p, ClientFrame::Join { room: room.into(), since: 0, limit: 0 });
    let e = one(k, Script::Join);
    let answer = vec![
        Value::Int(1),
        Value::Int(ev),
        Value::Int(last),
        arr(vec![bulk(name)]),
        bulk("0"),
        Value::Int(0),
        arr(vec![]),
        arr(vec![]),
    ];
    reply(k, &e, arr(answer));
    assert!(matches!(k.recv_app(p).first(), Some(ServerFrame::Joined { .. })));
}

/// Message `id` of lobby, published as its event `ev`.
fn msg(id: u64, ev: u64) -> Vec<u8> {
    let text = format!("m{id}");
    Event::Msg { id, ts: 1, from: "bob".into(), flags: 0, text, sid: 99, file: None }
        .record(ev, "lobby")
}

fn ids(frames: &[ServerFrame]) -> Vec<u64> {
    frames
        .iter()
        .map(|f| match f {
            ServerFrame::Msg { id, .. } => *id,
            f => panic!("expected MSG, got {f:?}"),
        })
        .collect()
}

#[test]
fn a_message_past_a_gap_waits_for_the_log_and_all_go_out_once_in_order() {
    let mut k = node();
    let (ada, _) = sign_in(&mut k, "ada");
    join(&mut k, ada, "lobby", "ada", 1, 0);
    let event = |k: &mut Kit, rec| k.core.cluster_input(Input::Event("b:r:lobby".into(), rec));
    event(&mut k, msg(1, 2));
    assert_eq!(ids(&k.recv_app(ada)), [1]);
    // Messages 2 and 3 never came on the channel (a subscription lost).
    event(&mut k, msg(4, 5));
    let fill = one(&mut k, Script::After);
    assert_eq!(fill.args, ["lobby", "1"], "read from the log after the last id delivered");
    event(&mut k, msg(5, 6));
    assert!(k.recv_app(ada).is_empty(), "nothing past the gap before the fill");
    let log = (2..=4).map(|id| Value::Bulk(Some(msg(id, id + 1)))).collect();
    reply(&mut k, &fill, arr(log));
    assert_eq!(ids(&k.recv_app(ada)), [2, 3, 4, 5]);
    event(&mut k, msg(5, 6)); // a repeat
    event(&mut k, msg(6, 7));
    assert_eq!(ids(&k.recv_app(ada)), [6]);
}

#[test]
fn a_join_answer_covers_what_came_before_it() {
    let mut k = node();
    let (ada, _) = sign_in(&mut k, "ada");
    k.send(ada, ClientFrame::Join { room: "lobby".into(), since: 0, limit: 0 });
    let e = one(&mut k, Script::Join);
    // Events published before the answer's number are in the answer.
    let event = |k: &mut Kit, rec| k.core.cluster_input(Input::Event("b:r:lobby".into(), rec));
    event(&mut k, msg(7, 7));
    event(&mut k, msg(8, 8));
    let answer = vec![
        Value::Int(1),
        Value::Int(7),
        Value::Int(7),
        arr(vec![bulk("ada")]),
        bulk("0"),
        Value::Int(0),
        arr(vec![]),
        arr(vec![]),
    ];
    reply(&mut k, &e, arr(answer));
    let got = k.recv_app(ada);
    assert!(matches!(got.first(), Some(ServerFrame::Joined { last_id: 7, .. })), "{got:?}");
    let after: Vec<u64> = got
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Msg { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(after, [8], "only what came after the answer, once");
}

#[test]
fn a_leave_while_redis_is_away_is_owed_and_sent_first_when_it_is_back() {
    let mut k = node();
    let (ada, ada_sid) = sign_in(&mut k, "ada");
    join(&mut k, ada, "lobby", "ada", 1, 0);
    k.send(ada, ClientFrame::Leave { room: "lobby".into() });
    let leave = one(&mut k, Script::Leave);
    k.core.cluster_input(Input::Down(vec![leave.tag]));
    assert_eq!(k.recv_app(ada), [ServerFrame::Left { room: "lobby".into() }]);
    k.core.cluster_input(Input::Up);
    let e = evals(&mut k);
    let scripts: Vec<Script> = e.iter().map(|x| x.script).collect();
    assert_eq!(scripts, [Script::Leave, Script::Orphans]);
    assert_eq!(e[0].args, leave.args);
    assert_eq!(e[1].args, ["n1".to_string(), ada_sid], "sessions this node keeps");
}

#[test]
fn a_quit_while_redis_is_away_closes_at_once_and_the_end_is_owed() {
    let mut k = node();
    let (ada, ada_sid) = sign_in(&mut k, "ada");
    k.send(ada, ClientFrame::Quit { reason: "bye".into() });
    let end = one(&mut k, Script::End);
    assert_eq!(end.args[..3], [ada_sid.clone(), "n1".into(), "3".into()]);
    k.core.cluster_input(Input::Down(vec![end.tag]));
    assert!(k.core.peer(ada).is_some_and(|x| x.is_closing()), "the connection goes at once");
    k.core.cluster_input(Input::Up);
    let e = evals(&mut k);
    assert_eq!(e.iter().map(|x| x.script).collect::<Vec<_>>(), [Script::End, Script::Orphans]);
    assert_eq!(e[0].args, end.args);
    assert_eq!(e[1].args, ["n1"], "ada is no session of this node any more");
}
