//! What the core asks of Redis and what comes back, as plain data: the
//! seam between the protocol core (which decides) and the cluster links
//! (which talk RESP). No I/O here, so the core can use these types without
//! seeing a socket.

use super::resp::Value;
use super::scripts::Script;

/// What the core asks of Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Runs a script; the reply comes back with `tag`.
    Eval { tag: u64, script: Script, args: Vec<Vec<u8>> },
    /// Starts receiving a channel's events (the core counts its reasons).
    Subscribe { channel: String },
    /// Stops receiving a channel's events.
    Unsubscribe { channel: String },
}

/// What Redis gave back, for the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The reply to the op tagged so.
    Reply(u64, Value),
    /// An event on a channel this node subscribed to.
    Event(String, Vec<u8>),
    /// A SUBSCRIBE took effect: events of that channel flow from now on.
    Subscribed(String),
    /// The command connection is (again) up.
    Up,
    /// The command connection is down (or was never up): these ops will
    /// never be answered.
    Down(Vec<u64>),
    /// The subscription connection came back: every channel is being
    /// subscribed again, and events in between may be missing.
    Resubscribed,
}
