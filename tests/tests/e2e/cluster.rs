//! Several `banterd` nodes over one Redis (issue 17): clients on different
//! nodes see one server. Ids gapless and in order across nodes, names
//! unique across nodes, a session resumed on another node, a node killed
//! (its users resume elsewhere; PRESENCE lost once after the linger),
//! Redis restarted with nothing acknowledged lost, and the whole server
//! suite run once against three nodes behind a round-robin proxy.

use crate::server_util::*;
use banter_proto::{ClientFrame, ErrorCode, ServerFrame};
use banter_tests::cluster::Cluster;
use banter_tests::*;

/// Logs `name` in on node `i`.
fn login(c: &Cluster, i: usize, name: &str) -> Conn {
    c.node(i).login(name)
}

#[test]
fn clients_on_three_nodes_chat_with_gapless_ids() {
    let c = Cluster::start(3, &["--rate", "0"]);
    let names = ["ada", "bob", "cy", "dee", "eve", "fay"];
    let mut conns: Vec<Conn> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let mut x = login(&c, i % 3, name);
        let a = join(&mut x, "lobby", "lobby", 0, 0);
        assert_eq!(a.names().len(), i + 1, "{:?}", a.names());
        for earlier in conns.iter_mut() {
            assert_eq!(next_app(earlier), presence("lobby", name, JOINED_EV));
        }
        conns.push(x);
    }
    const EACH: u32 = 30;
    for seq in 1..=EACH {
        for x in conns.iter_mut() {
            x.send(&say_f("lobby", seq, &format!("m{seq}")));
        }
    }
    let total = EACH as u64 * names.len() as u64;
    for (i, x) in conns.iter_mut().enumerate() {
        let (mut msgs, mut acks) = (Vec::new(), Vec::new());
        while msgs.len() + acks.len() < total as usize {
            match next_app(x) {
                ServerFrame::Msg { id, from, .. } => {
                    assert_ne!(from, names[i], "no echo of one's own message");
                    msgs.push(id);
                }
                ServerFrame::Ack { id, .. } => acks.push(id),
                f => panic!("{}: unexpected {f:?}", names[i]),
            }
        }
        assert_eq!(acks.len(), EACH as usize);
        assert!(msgs.windows(2).all(|w| w[0] < w[1]), "{}: MSGs in id order", names[i]);
        let mut all = [msgs, acks].concat();
        all.sort_unstable();
        assert_eq!(all, (1..=total).collect::<Vec<u64>>(), "{}: every id once", names[i]);
    }
}

#[test]
fn a_name_is_taken_across_nodes_and_resumes_on_another() {
    let c = Cluster::start(2, &[]);
    let mut ada = login(&c, 0, "ada");
    let token = ada.token;
    let mut other = c.node(1).connect();
    other.hello("Ada", "", 0);
    expect_fatal(&mut other, ErrorCode::NameTaken, banter_proto::types::HELLO);
    join(&mut ada, "lobby", "lobby", 0, 0);
    let mut bob = login(&c, 1, "bob");
    join(&mut bob, "lobby", "lobby", 0, 0);
    assert_eq!(next_app(&mut ada), presence("lobby", "bob", JOINED_EV));
    let (id, ts) = say(&mut ada, "lobby", 1, "before");
    assert!(matches!(next_app(&mut bob), ServerFrame::Msg { id: 1, .. }));
    // Resume on node 1: the old connection on node 0 is superseded.
    let mut again = c.node(1).connect();
    again.hello("ada", "", token);
    let ServerFrame::Welcome { resumed: 1, .. } = again.expect_welcome() else { panic!("resumed") };
    expect_fatal(&mut ada, ErrorCode::Superseded, 0);
    // A repeated seq is answered from the ACK memory, stored once.
    again.send(&say_f("lobby", 1, "before"));
    assert_eq!(next_app(&mut again), ServerFrame::Ack { seq: 1, room: "lobby".into(), id, ts });
    // Memberships carried over, no PRESENCE; live traffic reaches it here.
    bob.send(&say_f("lobby", 1, "hi"));
    assert!(matches!(next_app(&mut bob), ServerFrame::Ack { id: 2, .. }));
    assert!(matches!(next_app(&mut again), ServerFrame::Msg { id: 2, .. }));
    again.send(&ClientFrame::Who { room: "lobby".into() });
    assert_eq!(roster_names(&read_rosters(&mut again, "lobby")), ["ada", "bob"]);
}
