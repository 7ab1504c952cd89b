//! End-to-end tests, one binary (after ripgrep): each module drives the real
//! `banterd`, `banter` or `banter-bench` over sockets on 127.0.0.1.

mod bench;
mod bench_cluster;
mod client;
mod cluster;
mod server;
mod server_accounts;
mod server_admission;
mod server_bounds;
mod server_cli;
mod server_direct;
mod server_files;
mod server_flood;
mod server_framing;
mod server_handshake;
mod server_heartbeat;
mod server_history;
mod server_http;
mod server_limits;
mod server_messages;
mod server_rooms;
mod server_roster;
mod server_sessions;
mod server_shutdown;
mod server_slow;
mod server_tls;
mod server_typing;
mod server_util;
mod server_ws;
mod store;
mod web;
