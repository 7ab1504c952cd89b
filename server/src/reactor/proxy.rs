//! Reading a PROXY protocol header off a link from a `--proxy-from`
//! address, before its transport reads anything: the header is peeked
//! until whole, then exactly its bytes are taken from the socket, so
//! whatever follows (TLS, HTTP or Banter bytes) is read by the transport
//! as if the stream began there.

use super::Reactor;
use crate::transport::proxy::{parse, Header, MAX_V2};
use std::io::{self, Read};

impl Reactor {
    /// Looks for the PROXY header of link `key`; true once it has been
    /// read (the link goes on to its transport), false while it is due or
    /// if the link failed.
    pub(super) fn read_proxy(&mut self, key: usize) -> bool {
        let Some(link) = self.links.get_mut(key) else { return false };
        let p = link.peer;
        let mut head = [0u8; MAX_V2];
        let seen = match link.sock.peek(&mut head) {
            Ok(0) => {
                link.eof = true;
                self.core.peer_closed(p);
                return false;
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
            Err(e) => {
                link.gone = true;
                self.core.transport_failed(p, format!("socket error: {e}"));
                return false;
            }
        };
        let (len, source) = match parse(&head[..seen]) {
            Header::Incomplete if seen < head.len() => return false, // more will come
            Header::Incomplete => (0, Err("PROXY header too long")),
            Header::Invalid(why) => (0, Err(why)),
            Header::Done { len, source } => (len, Ok(source)),
        };
        match source {
            Ok(source) if link.sock.read_exact(&mut head[..len]).is_ok() => {
                self.core.proxy_source(p, source);
                true
            }
            Ok(_) => {
                self.core.transport_failed(p, "PROXY header could not be read".into());
                false
            }
            Err(why) => {
                self.core.transport_failed(p, format!("bad PROXY header from a proxy: {why}"));
                false
            }
        }
    }
}
