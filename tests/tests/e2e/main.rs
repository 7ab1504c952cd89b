//! End-to-end tests, one binary (after ripgrep): each module drives the real
//! `banterd`, `banter` or `banter-bench` over sockets on 127.0.0.1.

mod bench;
mod client;
mod server;
mod store;
