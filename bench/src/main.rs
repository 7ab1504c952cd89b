//! `banter-bench`: the load harness of Banter, with Redis pub/sub and a Node
//! `ws` server as the baselines. `banter-bench SCENARIO [options]` runs one scenario and prints
//! its figures; `banter-bench compare` runs the standard matrix on both
//! servers and writes the comparison (see `compare.rs`).

mod attack;
mod cli;
mod cluster;
mod cluster_model;
mod compare;
mod conn;
mod content;
mod extra;
mod link;
mod markdown;
mod mover;
mod net;
mod opening;
mod plan;
mod procstat;
mod proto;
mod receipts;
mod render;
mod render_cluster;
mod render_cluster_model;
mod render_ext;
mod report;
mod report_ext;
mod roles;
mod run;
mod sections;
mod sections_ext;
mod servers;
mod shared;
mod sides;
mod soak;
mod stamp;
mod stats;
mod summary;
mod target;
mod worker;

use plan::Scenario;
use std::process::ExitCode;

const USAGE: &str = "usage: banter-bench SCENARIO [options]

Load harness for Banter, with Redis pub/sub and a Node `ws` broadcast server
(bench/ws-baseline) as baselines, all through one code path. Targets:
  banter://HOST:PORT      Banter over TCP
  banters://HOST:PORT     Banter over TLS (ALPN banter/1)
  ws://HOST:PORT/ws       Banter over WebSocket (subprotocol banter.1)
  wss://HOST:PORT/ws      Banter over WebSocket over TLS
  redis://HOST:PORT       Redis pub/sub; rediss:// over TLS
  wsbase://HOST:PORT/ws   the Node ws baseline; wsbases:// over TLS
TLS connections never resume a session: each one is a full handshake.

Scenarios:
  fanout       R receivers in one room, S senders, B-byte payloads; closed loop
               (W in flight per sender) or open loop (--rate); checks order
  connections  ramp to N logged-in, joined connections at C/s and hold them:
               connect rate, server RSS per connection, idle server CPU
  churn        N concurrent loops of connect, log in, join, say, quit
  replay       Banter only: JOIN with a large limit on a long room, repeatedly
  receipts     Banter only: a room of M members (--members, senders included)
               under fan-out load, in --runs pairs of windows: the first without
               MARK, the second with every member marking every message it
               gets; server CPU per delivery and latency of both, and every
               READ checked (one per reader and second at most, none in rooms
               of over 100 members)
  files        Banter only: one connection moves a --file-size file up, then
               down, again and again (an account: it registers at login), while
               it and -n others chat at --rate msg/s; MB/s each way, every byte
               checked, and chat latency idle vs during the transfers, on the
               file's connection and between the others (banterd --files DIR)
  compare      the standard Banter vs Redis matrix (banter-bench compare --help)

Exit status: 0; 1 when a message was lost or reordered (a READ broke the
server's pace, a downloaded byte differed); 2 on an error.";

fn usage(o: &getopts::Options) -> String {
    o.usage(USAGE)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match real_main(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("banter-bench: {e}");
            ExitCode::from(2)
        }
    }
}

fn real_main(args: &[String]) -> Result<ExitCode, String> {
    net::raise_fd_limit();
    let first = args.first().map(String::as_str).unwrap_or("--help");
    if first == "compare" {
        return compare::main(&args[1..]);
    }
    if first == "attack" {
        return attack::main(&args[1..]);
    }
    if first == "soak" {
        return soak::main(&args[1..]);
    }
    let o = cli::options();
    let m = o.parse(args).map_err(|e| e.to_string())?;
    if m.opt_present("version") {
        println!("banter-bench {}", env!("CARGO_PKG_VERSION"));
        return Ok(ExitCode::SUCCESS);
    }
    if m.opt_present("help") || m.free.is_empty() {
        print!("{}", usage(&o));
        return Ok(ExitCode::SUCCESS);
    }
    let name = &m.free[0];
    let scenario = Scenario::from_name(name).ok_or_else(|| format!("unknown scenario {name:?}"))?;
    let a = cli::plan(scenario, &m)?;
    let (f, clean) = match scenario {
        Scenario::Receipts | Scenario::Files => summary::run(a.plan)?,
        _ => {
            let outcome = run::run(a.plan)?;
            (report::figures(&outcome), outcome.lost == 0 && outcome.late == 0)
        }
    };
    if a.json {
        println!("{}", report::json(&f));
    } else {
        print!("{}", report::table(&f));
    }
    Ok(if clean { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
