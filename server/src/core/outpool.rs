//! Buffers that output queues give back the moment they empty, kept for
//! the next queue that fills (after the free lists of Redis's `networking.c`
//! and the reply-buffer pools of nginx). A queue with nothing owed holds no
//! heap at all, so ten thousand idle connections hold none, while a busy
//! turn's fan-out still reuses warm buffers instead of calling the
//! allocator per receiver: what one receiver gives back after its write is
//! what the next one fills.
//!
//! The pool is per thread (the core runs on one) and bounded in count and
//! bytes; what it cannot keep goes back to the allocator. It knows nothing
//! about frames or peers.

use std::cell::RefCell;
use std::collections::VecDeque;

/// Most bytes of buffer capacity kept: a busy turn's worth, not a peak's.
const MAX_BYTES: usize = 4 << 20;
/// Most buffers (and, separately, segment lists) kept.
const MAX_COUNT: usize = 4096;
/// Largest buffer kept; anything bigger was a rare burst and is freed.
const MAX_ONE: usize = 128 * 1024;
/// Largest segment list kept, in segments.
const MAX_SEGS: usize = 64;

/// The kept buffers and segment lists of one thread.
struct Pool<S> {
    /// Empty byte buffers, most recently given back last.
    bufs: Vec<Vec<u8>>,
    /// Their capacity in all, held to [`MAX_BYTES`].
    bytes: usize,
    /// Empty segment lists.
    lists: Vec<VecDeque<S>>,
}

thread_local! {
    static POOL: RefCell<Pool<super::outq::Seg>> =
        const { RefCell::new(Pool { bufs: Vec::new(), bytes: 0, lists: Vec::new() }) };
}

/// An empty byte buffer, warm if one was given back.
pub fn take_buf() -> Vec<u8> {
    POOL.with_borrow_mut(|p| match p.bufs.pop() {
        Some(b) => {
            p.bytes -= b.capacity();
            b
        }
        None => Vec::new(),
    })
}

/// Gives a buffer back (emptied here); freed if the pool is full.
pub fn give_buf(mut b: Vec<u8>) {
    let cap = b.capacity();
    if cap == 0 || cap > MAX_ONE {
        return;
    }
    b.clear();
    POOL.with_borrow_mut(|p| {
        if p.bufs.len() < MAX_COUNT && p.bytes + cap <= MAX_BYTES {
            p.bytes += cap;
            p.bufs.push(b);
        }
    });
}

/// An empty segment list, warm if one was given back.
pub fn take_list() -> VecDeque<super::outq::Seg> {
    POOL.with_borrow_mut(|p| p.lists.pop().unwrap_or_default())
}

/// Gives an empty segment list back; freed if the pool is full.
pub fn give_list(l: VecDeque<super::outq::Seg>) {
    let cap = l.capacity();
    if cap == 0 || cap > MAX_SEGS || !l.is_empty() {
        return;
    }
    POOL.with_borrow_mut(|p| {
        if p.lists.len() < MAX_COUNT {
            p.lists.push(l);
        }
    });
}

/// Bytes of buffer capacity the pool holds (for tests and accounting).
#[cfg(test)]
pub fn held() -> usize {
    POOL.with_borrow(|p| p.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_given_back_is_the_next_one_taken() {
        let mut b = take_buf();
        b.extend_from_slice(&[1; 1000]);
        let (ptr, cap) = (b.as_ptr(), b.capacity());
        give_buf(b);
        assert_eq!(held(), cap);
        let again = take_buf();
        assert_eq!((again.as_ptr(), again.capacity(), again.len()), (ptr, cap, 0));
        assert_eq!(held(), 0);
    }

    #[test]
    fn the_pool_keeps_no_more_than_its_bytes() {
        for _ in 0..(MAX_BYTES / MAX_ONE) + 10 {
            give_buf(Vec::with_capacity(MAX_ONE));
        }
        assert_eq!(held(), MAX_BYTES);
        give_buf(Vec::with_capacity(MAX_ONE + 1));
        assert_eq!(held(), MAX_BYTES, "a buffer over the size kept is freed");
    }

    #[test]
    fn only_empty_small_lists_are_kept() {
        give_list(VecDeque::with_capacity(MAX_SEGS * 2));
        give_list(VecDeque::new());
        assert_eq!(take_list().capacity(), 0, "neither was kept");
        give_list(VecDeque::with_capacity(4));
        assert!(take_list().capacity() >= 4);
    }
}
