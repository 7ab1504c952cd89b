//! `banterd`: the Banter chat daemon. Parses the command line, sets up
//! logging and the open-file limit, opens storage, and runs the event loop
//! until SIGTERM or SIGINT.

use banterd::config::{self, Command, Config};
use banterd::{core, files, reactor, store, transport};
use simplelog::{ConfigBuilder, WriteLogger};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match config::parse(&args, |k| std::env::var(k).ok()) {
        Ok(Command::Run(cfg)) => *cfg,
        Ok(Command::Help(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("banterd {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("banterd: {e}\nTry 'banterd --help'.");
            return ExitCode::from(2);
        }
    };
    let log_cfg = ConfigBuilder::new()
        .set_target_level(log::LevelFilter::Off)
        .set_thread_level(log::LevelFilter::Off)
        .build();
    // simplelog writes a line in pieces; a LineWriter hands each whole line
    // to stderr in one write(2) (20 syscalls a line before, a third of the
    // server's CPU under connection churn).
    let sink = std::io::LineWriter::with_capacity(4096, std::io::stderr());
    let _ = WriteLogger::init(cfg.log_level, log_cfg, sink);
    match run(cfg) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            eprintln!("banterd: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cfg: Config) -> Result<(), String> {
    let fds = raise_fd_limit();
    let room = fds.saturating_sub(32);
    log::info!(
        "open-file limit {fds}: room for about {room} clients (--max-clients {})",
        cfg.max_clients
    );
    if cfg.max_clients as u64 > room {
        log::warn!("--max-clients {} is above what the open-file limit allows", cfg.max_clients);
    }
    let store = open_store(&cfg)?;
    let addr = std::net::SocketAddr::new(cfg.bind, cfg.port);
    let tls = match &cfg.tls {
        Some((cert, key)) => {
            let id = transport::tls::TlsIdentity::load(cert, key)?;
            log::info!("TLS offered on the same port with {}", cert.display());
            Some(id)
        }
        None => {
            log::warn!("no --tls-cert: passwords travel in clear (allowed from --trust-plain only when TLS is on)");
            None
        }
    };
    let web = reactor::WebConfig {
        require_tls: cfg.require_tls,
        trust_plain: cfg.trust_plain.clone(),
        allow_origins: cfg.allow_origins.clone(),
        metrics_public: cfg.metrics_public,
        max_frame: cfg.max_frame,
    };
    let files = match &cfg.files {
        Some(dir) => {
            let d = files::FileDir::open(dir, cfg.cluster.as_ref().map(|c| c.node.as_str()))?;
            log::info!(
                "file sharing on, files in {} (at most {} bytes each)",
                dir.display(),
                cfg.max_file
            );
            Some(d)
        }
        None => None,
    };
    let redis = match &cfg.cluster {
        Some(c) => Some(reactor::Redis::new(&c.url, &c.node, cfg.linger_ms)?),
        None => None,
    };
    let core = core::Core::new(cfg, store)?;
    let mut reactor = reactor::Reactor::new(addr, core, tls, web, files, redis)
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    reactor.run().map_err(|e| format!("event loop failed: {e}"))
}

fn open_store(cfg: &Config) -> Result<Box<dyn store::Store>, String> {
    match &cfg.db {
        None => Ok(Box::new(store::memory::MemoryStore::default())),
        Some(path) => {
            let db = store::sqlite::SqliteStore::open(path, cfg.sync).map_err(|e| e.to_string())?;
            log::info!("history and accounts in {} (sync {:?})", path.display(), cfg.sync);
            Ok(Box::new(db))
        }
    }
}

/// Raises the soft open-file limit to the hard one; returns the new soft limit.
fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let want = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    lim.rlim_cur
}
