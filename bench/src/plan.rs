//! What a run does, independent of how it was asked for: the scenario, the
//! target, the sizes, and the list of connections each worker thread opens
//! (their role, unique name and room).
//!
//! It does no I/O; `run` executes a plan and `cli`/`compare` build them.

use crate::link::tls::TlsOpts;
use crate::target::Target;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// The workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// R receivers, S senders in one room; throughput, latency, order.
    Fanout,
    /// Ramp to N idle, joined connections; connect rate, memory, idle CPU.
    Connections,
    /// Connect, log in, join, say, quit, in a loop.
    Churn,
    /// JOIN with a large replay limit on a long room, again and again.
    Replay,
    /// Fanout whose members MARK every message, in windows alternating
    /// with the same load without MARK (`receipts.rs`).
    Receipts,
    /// A file moving up and down on one connection while others chat
    /// (`mover.rs`, `files.rs`).
    Files,
}

impl Scenario {
    /// The scenario's name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Fanout => "fanout",
            Scenario::Connections => "connections",
            Scenario::Churn => "churn",
            Scenario::Replay => "replay",
            Scenario::Receipts => "receipts",
            Scenario::Files => "files",
        }
    }

    /// The scenario called `s`.
    pub fn from_name(s: &str) -> Option<Scenario> {
        let all = [Self::Fanout, Self::Connections, Self::Churn, Self::Replay];
        all.into_iter().chain([Self::Receipts, Self::Files]).find(|x| x.name() == s)
    }

    /// Whether a delivery's latency counts (fan-out messages, chat).
    pub fn delivers(self) -> bool {
        matches!(self, Scenario::Fanout | Scenario::Receipts | Scenario::Files)
    }
}

/// What one connection does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Fanout: receives and checks every sender's messages.
    Receiver,
    /// Fanout: publishes; `idx` is its sender number (0-based).
    Sender { idx: u32 },
    /// Connections: joins and stays.
    Idle,
    /// Churn: one connect-…-quit cycle, then replaced.
    Churner,
    /// Replay: fills the room with the plan's `history` messages first.
    Filler,
    /// Replay: JOINs with a large limit over and over.
    Reader,
    /// Files: chats (sender number `idx`, from 1) and receives the chat.
    Chatter { idx: u32 },
    /// Files: moves the file up and down, and chats too (sender 0).
    Mover,
}

impl Role {
    /// Whether the connection receives the room's messages (and so must
    /// subscribe even on Redis).
    pub fn receives(self) -> bool {
        matches!(self, Role::Receiver | Role::Idle | Role::Chatter { .. } | Role::Mover)
    }

    /// Its number among the senders whose messages are stamped and checked.
    pub fn sender_idx(self) -> Option<u32> {
        match self {
            Role::Sender { idx } | Role::Chatter { idx } => Some(idx),
            Role::Mover => Some(0),
            _ => None,
        }
    }
}

/// One connection to open.
#[derive(Debug, Clone)]
pub struct ConnSpec {
    /// What it does.
    pub role: Role,
    /// Its unique user name (Banter) or client label.
    pub name: String,
    /// The room / channel it joins.
    pub room: String,
    /// The local address to connect from.
    pub source: Option<Ipv4Addr>,
    /// The server node it connects to (the target's, or one of the plan's
    /// `nodes`).
    pub addr: SocketAddr,
}

/// A whole run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The workload.
    pub scenario: Scenario,
    /// The server: its protocol, transport and address.
    pub target: Target,
    /// How TLS targets are verified.
    pub tls: TlsOpts,
    /// Fanout: receivers.
    pub receivers: usize,
    /// Fanout: senders.
    pub senders: usize,
    /// Payload bytes per message (at least the stamp).
    pub size: usize,
    /// Closed loop: messages in flight per sender.
    pub window: u32,
    /// Open loop: messages per second over all senders (0: closed loop).
    pub rate: f64,
    /// Connections: how many; churn: concurrent cycles; replay: readers.
    pub conns: usize,
    /// Connections: new connections per second during the ramp.
    pub connect_rate: f64,
    /// Connections: members per room.
    pub room_size: usize,
    /// Replay: messages put in the room before measuring.
    pub history: u64,
    /// Replay: the JOIN's `limit`.
    pub limit: u16,
    /// Receipts: pairs of windows (without, with MARK); files: rounds of
    /// windows (idle, upload, download).
    pub runs: usize,
    /// Files: bytes of the file moved.
    pub file_size: u64,
    /// Files: the password of the mover's account (registered at login).
    pub password: String,
    /// Worker threads, each with its own poll loop.
    pub threads: usize,
    /// Load before measuring.
    pub warmup: Duration,
    /// The measured window (connections: the hold).
    pub duration: Duration,
    /// How many 127.0.0.x source addresses to spread connections over.
    pub sources: u8,
    /// The server's pid, for its CPU and memory.
    pub server_pid: Option<u32>,
    /// Cluster: further nodes of the same server (`banterd --cluster`);
    /// each role's connections are dealt round-robin over the target and
    /// these, so with N nodes (N-1)/N of the receivers sit on a node other
    /// than their sender's. Empty: every connection goes to the target.
    pub nodes: Vec<SocketAddr>,
    /// Cluster: the pids of `nodes`, whose CPU (and memory) a window
    /// measures besides the server's.
    pub node_pids: Vec<u32>,
    /// Cluster: the pid of the Redis the nodes share, measured the same way.
    pub redis_pid: Option<u32>,
    /// Prefix of names and rooms, unique per run so runs never collide.
    pub prefix: String,
    /// Print a progress line every second (stderr).
    pub progress: bool,
}

impl Plan {
    /// The connections of worker `w`: the plan's list dealt round-robin;
    /// with files on several threads, the mover has worker 0 to itself, so
    /// the harness's own file work never delays the chat it measures.
    pub fn specs_for(&self, w: usize) -> Vec<ConnSpec> {
        let all = self.all_specs();
        let threads = self.threads.max(1);
        let worker = |i: usize| match (self.scenario, threads) {
            (Scenario::Files, 2..) if i == 0 => 0,
            (Scenario::Files, 2..) => 1 + (i - 1) % (threads - 1),
            _ => i % threads,
        };
        all.into_iter().enumerate().filter(|(i, _)| worker(*i) == w).map(|(_, s)| s).collect()
    }

    fn all_specs(&self) -> Vec<ConnSpec> {
        let room = format!("{}-{}", self.prefix, self.scenario.name());
        let mut roles = Vec::new();
        match self.scenario {
            Scenario::Fanout | Scenario::Receipts => {
                roles.extend((0..self.receivers).map(|_| Role::Receiver));
                roles.extend((0..self.senders as u32).map(|idx| Role::Sender { idx }));
            }
            Scenario::Files => {
                roles.push(Role::Mover);
                roles.extend((1..=self.conns as u32).map(|idx| Role::Chatter { idx }));
            }
            Scenario::Connections => roles.extend((0..self.conns).map(|_| Role::Idle)),
            Scenario::Churn => roles.extend((0..self.conns).map(|_| Role::Churner)),
            Scenario::Replay => {
                roles.push(Role::Filler);
                roles.extend((0..self.conns).map(|_| Role::Reader));
            }
        }
        let room_of = |i: usize| match self.scenario {
            Scenario::Connections => format!("{room}{}", i / self.room_size.max(1)),
            Scenario::Churn => format!("{room}{i}"),
            _ => room.clone(),
        };
        let addrs = self.addrs();
        let mut dealt = [0usize; 2];
        let mut spec = |(i, role): (usize, Role)| {
            let kind = &mut dealt[usize::from(role.sender_idx().is_some())];
            *kind += 1;
            ConnSpec {
                role,
                name: format!("{}{i:x}", self.prefix),
                room: room_of(i),
                source: self.source(i),
                addr: addrs[(*kind - 1) % addrs.len()],
            }
        };
        roles.into_iter().enumerate().map(&mut spec).collect()
    }

    /// Every node connections go to: the target first, then `nodes`.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        std::iter::once(self.target.addr).chain(self.nodes.iter().copied()).collect()
    }

    /// Every server process measured: the server, the other nodes, Redis.
    pub fn pids(&self) -> Vec<u32> {
        let all = self.server_pid.into_iter().chain(self.node_pids.iter().copied());
        all.chain(self.redis_pid).collect()
    }

    /// The source address of connection `i`: 127.0.0.1 … 127.0.0.`sources`
    /// in turn, for a loopback target; the kernel's choice otherwise.
    pub fn source(&self, i: usize) -> Option<Ipv4Addr> {
        match self.target.addr.ip() {
            IpAddr::V4(ip) if ip.is_loopback() && self.sources > 0 => {
                let n = (i % usize::from(self.sources)) as u8;
                Some(Ipv4Addr::new(127, 0, 0, 1 + n))
            }
            _ => None,
        }
    }

    /// Connections that must be ready before the load starts.
    pub fn setup_count(&self) -> usize {
        match self.scenario {
            Scenario::Fanout | Scenario::Receipts => self.receivers + self.senders,
            Scenario::Connections => self.conns,
            Scenario::Churn => 0,
            Scenario::Replay | Scenario::Files => self.conns + 1,
        }
    }

    /// Deliveries counted per message published: every receiver (fanout),
    /// every other chat member (files: the chatters and the mover).
    pub fn deliveries_per_message(&self) -> u64 {
        match self.scenario {
            Scenario::Files => self.conns as u64,
            _ => self.receivers as u64,
        }
    }

    /// Receipts: the room's members, senders included.
    pub fn members(&self) -> usize {
        self.receivers + self.senders
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A small plan for tests.
    pub fn plan(scenario: Scenario) -> Plan {
        Plan {
            scenario,
            target: Target::parse("banter://127.0.0.1:3000").unwrap(),
            tls: TlsOpts::default(),
            receivers: 5,
            senders: 2,
            size: 64,
            window: 1,
            rate: 0.0,
            conns: 25,
            connect_rate: 1000.0,
            room_size: 10,
            history: 100,
            limit: 1000,
            runs: 1,
            file_size: 1 << 20,
            password: "password".into(),
            threads: 2,
            warmup: Duration::ZERO,
            duration: Duration::from_secs(1),
            sources: 4,
            server_pid: None,
            nodes: Vec::new(),
            node_pids: Vec::new(),
            redis_pid: None,
            prefix: "t1".into(),
            progress: false,
        }
    }

    #[test]
    fn specs_are_dealt_and_unique() {
        let p = plan(Scenario::Fanout);
        let (a, b) = (p.specs_for(0), p.specs_for(1));
        assert_eq!(a.len() + b.len(), 7);
        let mut names: Vec<_> = a.iter().chain(&b).map(|s| s.name.clone()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 7);
        let senders = a.iter().chain(&b).filter(|s| !s.role.receives()).count();
        assert_eq!(senders, 2);
        assert!(names.iter().all(|n| banter_proto::validate::is_valid_name(n)));
    }

    #[test]
    fn each_role_is_dealt_over_the_nodes() {
        let mut p = plan(Scenario::Fanout);
        (p.receivers, p.senders) = (5, 3);
        p.nodes = vec!["127.0.0.1:4001".parse().unwrap(), "127.0.0.1:4002".parse().unwrap()];
        let ports: Vec<(bool, u16)> =
            p.all_specs().iter().map(|s| (s.role.receives(), s.addr.port())).collect();
        let want = [(true, 3000), (true, 4001), (true, 4002), (true, 3000), (true, 4001)];
        assert_eq!(ports[..5], want);
        assert_eq!(ports[5..], [(false, 3000), (false, 4001), (false, 4002)]);
        (p.server_pid, p.node_pids, p.redis_pid) = (Some(1), vec![2, 3], Some(4));
        assert_eq!(p.pids(), [1, 2, 3, 4]);
        p.nodes.clear();
        assert!(p.all_specs().iter().all(|s| s.addr.port() == 3000));
    }

    #[test]
    fn connection_rooms_and_sources() {
        let p = plan(Scenario::Connections);
        let all = p.all_specs();
        assert_eq!(all[0].room, all[9].room);
        assert_ne!(all[0].room, all[10].room);
        assert_eq!(all[0].source, Some(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(all[5].source, Some(Ipv4Addr::new(127, 0, 0, 2)));
        assert_eq!(p.setup_count(), 25);
    }

    #[test]
    fn the_mover_has_a_worker_to_itself() {
        let mut p = plan(Scenario::Files);
        (p.conns, p.threads) = (3, 3);
        let roles = |p: &Plan, w| p.specs_for(w).iter().map(|s| s.role).collect::<Vec<_>>();
        assert_eq!(roles(&p, 0), [Role::Mover]);
        assert_eq!(roles(&p, 1), [Role::Chatter { idx: 1 }, Role::Chatter { idx: 3 }]);
        assert_eq!(roles(&p, 2), [Role::Chatter { idx: 2 }]);
        p.threads = 1;
        assert_eq!(roles(&p, 0).len(), 4);
        assert_eq!((p.setup_count(), p.deliveries_per_message()), (4, 3));
        assert_eq!(Role::Mover.sender_idx(), Some(0));
    }
}
