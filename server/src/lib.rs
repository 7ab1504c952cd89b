//! `banterd` as a library: the protocol core (no I/O), the reactor and
//! transports around it, the password hasher, storage and the command line.
//! The `banterd` binary (`main.rs`) only parses arguments, sets up logging
//! and runs the reactor. A library target lets other crates (the cargo-fuzz
//! target in `fuzz/`) drive [`core::Core`] in-process.

pub mod auth;
pub mod cidr;
pub mod cluster;
pub mod config;
pub mod core;
pub mod files;
pub mod loglimit;
pub mod metrics;
pub mod reactor;
pub mod store;
pub mod transport;
