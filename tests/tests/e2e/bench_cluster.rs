//! `banter-bench` against a cluster (issue 17): a fan-out whose receivers
//! and senders are dealt over three `banterd --cluster` nodes on one Redis
//! delivers every message to every receiver in order, whichever node it
//! sits on, and reports every node's and Redis's CPU. No speed figure is
//! asserted.

use crate::bench::{check_fanout, num, run_args};
use banter_tests::cluster::Cluster;

#[test]
fn fanout_dealt_over_three_nodes_delivers_everything() {
    let limits = ["--rate", "0", "--max-per-ip", "0", "--conn-rate", "0"];
    let c = Cluster::start(3, &[&limits[..], &["--join-rate", "0", "--query-rate", "0"]].concat());
    let urls: Vec<String> = (0..3).map(|i| format!("banter://{}", c.node(i).addr)).collect();
    let pids: Vec<String> = (0..3).map(|i| c.node(i).pid().to_string()).collect();
    let redis = c.redis.pid().expect("redis runs").to_string();
    let mut target: Vec<&str> = Vec::new();
    for (url, pid) in urls.iter().zip(&pids) {
        target.extend(["--target", url, "--server-pid", pid]);
    }
    target.extend(["--redis-pid", &redis]);
    let args = ["-r", "12", "-s", "3", "-w", "4", "-b", "64"];
    let (status, j, stderr) = run_args("fanout", &target, ("0.2", "1"), &args);
    assert!(status.success(), "fanout over 3 nodes failed: {status}\n{j}\n{stderr}");
    check_fanout(&j, 12.0);
    assert_eq!(num(&j, "nodes"), 3.0, "{j}");
    assert!(num(&j, "nodes_cpu_us_per_msg") > 0.0, "{j}");
    assert!(num(&j, "redis_cpu_us_per_msg") > 0.0, "{j}");
    assert!(num(&j, "node_cpu_max_pct") <= num(&j, "nodes_cpu_pct"), "{j}");
    // A node that is not the cluster's is refused before anything runs.
    let bad = ["--target", &urls[0], "--target", "redis://127.0.0.1:1"];
    let (status, _, stderr) = run_args("fanout", &bad, ("0.2", "1"), &args);
    assert!(!status.success() && stderr.contains("alike"), "{stderr}");
}
