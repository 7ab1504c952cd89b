//! The two sides of each comparison section, and how a side's server is
//! started: which server (Redis, Redis over TLS, banterd with or without a
//! certificate, the Node baseline), the harness's URL scheme for it, and the
//! probe that tells a banterd lacking TLS or WebSocket, so its side is
//! marked `n/a` instead of failing the run.
//!
//! Measuring is `sections.rs`'s.

use crate::markdown::Section;
use crate::plan::Scenario;
use crate::sections::Comparison;
use crate::servers::{self, ServerProc};
use std::time::Duration;

/// Which server a side runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Redis,
    RedisTls,
    Banter,
    BanterTls,
    NodeWs,
}

/// One side of a section: its server and the harness's URL scheme for it.
#[derive(Clone, Copy, Debug)]
pub struct Side {
    /// The server.
    pub kind: Kind,
    /// The target scheme (`rediss`, `ws`, …).
    pub scheme: &'static str,
}

/// What a section compares.
pub struct Pair {
    /// The baseline.
    pub base: Side,
    /// Banter.
    pub ours: Side,
    /// The transport Banter must speak here (`TLS`, `WebSocket`), probed
    /// with one connection before anything is measured; empty for TCP.
    pub lacks: &'static str,
}

pub const TCP: Pair = Pair {
    base: Side { kind: Kind::Redis, scheme: "redis" },
    ours: Side { kind: Kind::Banter, scheme: "banter" },
    lacks: "",
};
pub const TLS: Pair = Pair {
    base: Side { kind: Kind::RedisTls, scheme: "rediss" },
    ours: Side { kind: Kind::BanterTls, scheme: "banters" },
    lacks: "TLS",
};
pub const WS: Pair = Pair {
    base: Side { kind: Kind::NodeWs, scheme: "wsbase" },
    ours: Side { kind: Kind::Banter, scheme: "ws" },
    lacks: "WebSocket",
};

impl Comparison {
    /// Starts the server of `side`; when it cannot start (or cannot speak
    /// the section's transport), marks that side `n/a` and gives `None`.
    pub(crate) fn open(
        &mut self,
        sec: &mut Section,
        pair: &Pair,
        side: Side,
        conns: usize,
    ) -> Option<ServerProc> {
        let is_ours = side.kind == pair.ours.kind;
        let na = if is_ours { &mut sec.ours_na } else { &mut sec.base_na };
        if na.is_some() {
            return None;
        }
        let lacks = if is_ours { pair.lacks } else { "" };
        let started = self.start(side.kind, conns);
        let r = started.and_then(|srv| match lacks {
            "" => Ok(srv),
            _ => self.probe(&srv, side.scheme).map(|_| srv),
        });
        match r {
            Ok(srv) => Some(srv),
            Err(e) => {
                let e: String = e.chars().take(160).collect();
                *na = Some(match lacks {
                    "" => format!("n/a ({e})"),
                    t => format!("n/a (server lacks {t}: {e})"),
                });
                eprintln!("compare: {:?}: {}", side.kind, na.as_deref().unwrap_or(""));
                None
            }
        }
    }

    fn start(&mut self, kind: Kind, conns: usize) -> Result<ServerProc, String> {
        let cpu = self.s.cpus.map(|c| c.0);
        let max = conns.max(1000) + 5000;
        let tls = self.s.tls.as_ref();
        let srv = match kind {
            Kind::Banter => servers::banterd(&self.s.banterd, cpu, max, None)?,
            Kind::BanterTls => servers::banterd(&self.s.banterd, cpu, max, tls)?,
            Kind::Redis => servers::redis(&self.s.redis, cpu, max, None)?,
            Kind::RedisTls => servers::redis(&self.s.redis, cpu, max, tls)?,
            Kind::NodeWs => servers::node_ws(&self.s.node, &self.s.ws_script, cpu, None)?,
        };
        self.results.commands.push(srv.command.clone());
        Ok(srv)
    }

    /// One connection that logs in and joins over `scheme`, or why not.
    fn probe(&self, srv: &ServerProc, scheme: &str) -> Result<(), String> {
        let mut p = self.plan(Scenario::Connections, Some(srv), scheme)?;
        (p.conns, p.connect_rate, p.duration) = (1, 0.0, Duration::ZERO);
        let o = crate::run::run(p)?;
        if o.reached == 1 {
            return Ok(());
        }
        Err(o.errors.first().cloned().unwrap_or_else(|| "no connection".into()))
    }
}
