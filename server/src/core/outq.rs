//! A peer's output: whole encoded frames waiting for its transport, as a
//! queue of segments. A segment is either bytes owned by this peer (ACKs,
//! answers, history pages) or a shared, reference-counted buffer that many
//! peers queue at once (a room's messages of one loop turn, a broadcast):
//! fan-out copies a pointer per receiver, not the message (after the shared
//! reply objects of Redis and NATS).
//!
//! Owned segments grow to at most [`SEG_MAX`] bytes, so a queue's heap
//! stays close to what it owes (a single growing buffer would double its
//! capacity and hold up to twice its content: a slow consumer at a 4 MiB
//! limit cost 6.5 MB).
//!
//! Every segment starts and ends on a frame boundary, so when a slow
//! consumer is dropped everything not yet handed to the transport can be
//! discarded except the rest of the one frame partway written, and the
//! stream stays whole. The queue does no I/O: a transport takes
//! [`OutQueue::slices`] and reports what it wrote with [`OutQueue::consume`].
//!
//! A queue that empties gives its buffers to the thread's pool (`outpool`),
//! so a peer owed nothing holds no heap, and takes warm ones from it when
//! frames come.

use super::outpool;
use bytes::Bytes;
use std::collections::VecDeque;
use std::io::IoSlice;

/// An owned segment takes no more frames once it holds this many bytes.
pub const SEG_MAX: usize = 64 * 1024;

/// One run of whole frames.
#[derive(Debug)]
pub enum Seg {
    /// Bytes only this peer will send.
    Own(Vec<u8>),
    /// Bytes shared with other peers' queues.
    Shared(Bytes),
}

impl Seg {
    fn bytes(&self) -> &[u8] {
        match self {
            Seg::Own(v) => v,
            Seg::Shared(b) => b,
        }
    }
}

/// Pending output of one peer.
#[derive(Debug, Default)]
pub struct OutQueue {
    /// Segments in send order; `segs[0]` may be partly written.
    segs: VecDeque<Seg>,
    /// Bytes of `segs[0]` already taken by the transport.
    pos: usize,
    /// Bytes not yet taken, across all segments.
    pending: usize,
    /// Bytes ever queued: positions in the stream for delivery marks.
    pushed: u64,
    /// Bytes ever taken by the transport.
    taken: u64,
}

impl OutQueue {
    /// Bytes still owed to the peer.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Whether nothing is owed.
    pub fn is_empty(&self) -> bool {
        self.pending == 0
    }

    /// Heap bytes this queue holds on its own (shared buffers not counted).
    pub fn capacity(&self) -> usize {
        let own = |s: &Seg| if let Seg::Own(v) = s { v.capacity() } else { 0 };
        self.segs.iter().map(own).sum::<usize>()
    }

    /// Heap bytes this queue keeps alive: its own buffers' capacity and the
    /// shared buffers' bytes it still owes.
    pub fn footprint(&self) -> usize {
        let seg = |s: &Seg| match s {
            Seg::Own(v) => v.capacity(),
            Seg::Shared(b) => b.len(),
        };
        self.segs.iter().map(seg).sum::<usize>()
    }

    /// Appends frames encoded by `encode` into this peer's own bytes
    /// (encoded aside first, so the segment they go to is chosen knowing
    /// their size).
    pub fn push_with(&mut self, encode: impl FnOnce(&mut Vec<u8>)) {
        thread_local! {
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        SCRATCH.with(|s| {
            let mut buf = s.take();
            buf.clear();
            encode(&mut buf);
            self.push_bytes(&buf);
            if buf.capacity() <= SEG_MAX {
                s.replace(buf);
            }
        });
    }

    /// Appends encoded whole frames, copying them. A segment grows up to
    /// [`SEG_MAX`] and never past it (short of one frame larger than that);
    /// frames that do not fit start a new one, so at most one frame's worth
    /// of each segment is unused.
    pub fn push_bytes(&mut self, frames: &[u8]) {
        let n = frames.len();
        if n == 0 {
            return;
        }
        let fits = |v: &Vec<u8>| v.len() + n <= SEG_MAX.max(v.capacity());
        if !matches!(self.segs.back(), Some(Seg::Own(v)) if fits(v)) {
            self.push_seg(Seg::Own(outpool::take_buf()));
        }
        let Some(Seg::Own(v)) = self.segs.back_mut() else { unreachable!("pushed above") };
        let need = v.len() + n;
        if need > v.capacity() {
            let target = (2 * v.capacity()).max(need).min(SEG_MAX.max(need));
            v.reserve_exact(target - v.len());
        }
        v.extend_from_slice(frames);
        self.pending += n;
        self.pushed += n as u64;
    }

    /// Appends shared whole frames without copying them. An owned segment
    /// before them takes no more bytes: its unused capacity is given back.
    pub fn push_shared(&mut self, frames: Bytes) {
        if frames.is_empty() {
            return;
        }
        if let Some(Seg::Own(v)) = self.segs.back_mut() {
            if v.capacity() > v.len() + v.len() / 8 + 64 {
                v.shrink_to_fit();
            }
        }
        self.pending += frames.len();
        self.pushed += frames.len() as u64;
        self.push_seg(Seg::Shared(frames));
    }

    /// Appends a segment, taking a list from the pool if this queue has none.
    fn push_seg(&mut self, seg: Seg) {
        if self.segs.capacity() == 0 {
            self.segs = outpool::take_list();
        }
        self.segs.push_back(seg);
    }

    /// Bytes ever queued (the stream position of the end of the queue).
    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    /// Bytes ever taken by the transport.
    pub fn taken(&self) -> u64 {
        self.taken
    }

    /// Fills `out` with the pending bytes in order; returns how many slices
    /// it filled (at most `out.len()`).
    pub fn slices<'a>(&'a self, out: &mut [IoSlice<'a>]) -> usize {
        self.slices_upto(out, usize::MAX)
    }

    /// As [`OutQueue::slices`], but at most `limit` bytes in all (a
    /// WebSocket frame carries an exact count).
    pub fn slices_upto<'a>(&'a self, out: &mut [IoSlice<'a>], mut limit: usize) -> usize {
        let mut n = 0;
        for (i, seg) in self.segs.iter().enumerate().take(out.len()) {
            if limit == 0 {
                break;
            }
            let b = seg.bytes();
            let b = if i == 0 { &b[self.pos..] } else { b };
            let b = &b[..b.len().min(limit)];
            limit -= b.len();
            out[i] = IoSlice::new(b);
            n += 1;
        }
        n
    }

    /// The transport took `n` bytes from the front.
    pub fn consume(&mut self, mut n: usize) {
        debug_assert!(n <= self.pending);
        let n0 = n.min(self.pending);
        self.pending -= n0;
        self.taken += n0 as u64;
        while n > 0 {
            let Some(front) = self.segs.front() else { return };
            let left = front.bytes().len() - self.pos;
            if n < left {
                self.pos += n;
                return;
            }
            n -= left;
            self.pop_front();
        }
    }

    fn pop_front(&mut self) {
        self.pos = 0;
        if let Some(Seg::Own(v)) = self.segs.pop_front() {
            outpool::give_buf(v);
        }
        if self.segs.is_empty() {
            outpool::give_list(std::mem::take(&mut self.segs));
        }
    }

    /// Drops every byte not yet taken, except the rest of the frame partway
    /// written. Returns how many bytes were dropped.
    pub fn discard_unsent(&mut self) -> usize {
        let before = self.pending;
        let keep = match self.segs.front() {
            Some(front) if self.pos > 0 => frame_end_after(front.bytes(), self.pos),
            _ => 0,
        };
        self.segs.truncate(usize::from(keep > 0));
        match self.segs.front_mut() {
            Some(Seg::Own(v)) => v.truncate(keep),
            Some(Seg::Shared(b)) => b.truncate(keep),
            None => self.pos = 0,
        }
        self.pending = keep.saturating_sub(self.pos);
        if self.pending == 0 {
            while !self.segs.is_empty() {
                self.pop_front();
            }
            outpool::give_list(std::mem::take(&mut self.segs));
            self.pos = 0;
        }
        before - self.pending
    }
}

/// The end of the frame that contains byte `pos` of `buf` (a run of whole
/// frames starting at 0).
fn frame_end_after(buf: &[u8], pos: usize) -> usize {
    let mut at = 0;
    while at < buf.len() && at < pos {
        let next = at + banter_proto::frame_size(&buf[at..]).unwrap_or(buf.len() - at);
        if next > pos {
            return next.min(buf.len());
        }
        at = next;
    }
    at.min(buf.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use banter_proto::{check, decode_server, ServerFrame};

    /// Drains `q` through a writer that takes at most `cap` bytes a call.
    fn drain(q: &mut OutQueue, cap: usize, got: &mut Vec<u8>) {
        while !q.is_empty() {
            let mut s = [IoSlice::new(&[]); 8];
            let n = q.slices(&mut s);
            let mut took = 0;
            for sl in &s[..n] {
                let k = sl.len().min(cap - took);
                got.extend_from_slice(&sl[..k]);
                took += k;
                if took == cap {
                    break;
                }
            }
            q.consume(took);
        }
    }

    fn frames(bytes: &[u8]) -> Vec<ServerFrame> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let n = check(&bytes[at..], u32::MAX).unwrap();
            out.push(decode_server(&bytes[at..at + n]).unwrap());
            at += n;
        }
        out
    }

    fn ping(nonce: u64) -> Vec<u8> {
        ServerFrame::Ping { nonce }.to_bytes()
    }

    #[test]
    fn own_and_shared_segments_keep_their_order() {
        let mut q = OutQueue::default();
        q.push_bytes(&ping(1));
        let shared = Bytes::from([ping(2), ping(3)].concat());
        q.push_shared(shared.clone());
        q.push_bytes(&ping(4));
        q.push_bytes(&ping(5));
        assert_eq!(q.pending(), 13 * 5);
        let mut got = Vec::new();
        drain(&mut q, 7, &mut got);
        let nonces: Vec<_> = frames(&got)
            .into_iter()
            .map(|f| match f {
                ServerFrame::Ping { nonce } => nonce,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(nonces, [1, 2, 3, 4, 5]);
        assert_eq!(shared.len(), 26, "the shared buffer itself is untouched");
        assert_eq!(q.capacity(), 0, "an empty queue holds nothing");
    }

    #[test]
    fn discard_keeps_the_frame_partway_written() {
        let mut q = OutQueue::default();
        q.push_shared(Bytes::from([ping(0), ping(1), ping(2)].concat()));
        q.push_bytes(&ping(3));
        q.consume(15); // frame 0 and 2 bytes of frame 1
        assert_eq!(q.discard_unsent(), 13 + 13);
        assert_eq!(q.pending(), 11);
        q.push_bytes(&ServerFrame::Pong { nonce: 99 }.to_bytes());
        let mut got = ping(0);
        got.extend_from_slice(&ping(1)[..2]);
        drain(&mut q, 1000, &mut got);
        assert_eq!(
            frames(&got),
            [
                ServerFrame::Ping { nonce: 0 },
                ServerFrame::Ping { nonce: 1 },
                ServerFrame::Pong { nonce: 99 }
            ]
        );
    }

    #[test]
    fn discard_at_a_boundary_keeps_nothing() {
        let mut q = OutQueue::default();
        q.push_bytes(&[ping(1), ping(2)].concat());
        q.consume(13);
        assert_eq!(q.discard_unsent(), 13);
        assert!(q.is_empty());
        assert_eq!(q.capacity(), 0, "an empty queue holds nothing");
    }

    #[test]
    fn owned_bytes_are_cut_into_segments_that_stay_near_their_content() {
        let mut q = OutQueue::default();
        for i in 0..40_000u64 {
            q.push_with(|b| ServerFrame::Ping { nonce: i }.encode(b));
        }
        assert_eq!(q.pending(), 13 * 40_000);
        assert!(q.footprint() < q.pending() + 2 * SEG_MAX, "{} for {}", q.footprint(), q.pending());
        let mut got = Vec::new();
        drain(&mut q, 5000, &mut got);
        assert_eq!(frames(&got).len(), 40_000, "whole frames, in order");
    }

    #[test]
    fn an_emptied_queue_gives_its_buffer_to_the_next_one() {
        let mut q = OutQueue::default();
        q.push_bytes(&[7; 4000]);
        let cap = q.capacity();
        assert!(cap >= 4000);
        q.consume(4000);
        assert_eq!((q.capacity(), q.segs.capacity()), (0, 0), "an idle queue holds no heap");
        let mut other = OutQueue::default();
        other.push_bytes(&[7; 100]);
        assert_eq!(other.capacity(), cap, "the warm buffer, not a new allocation");
        assert!(other.segs.capacity() > 0);
    }
}
