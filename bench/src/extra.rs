//! What a window measured beyond the shared counters, for the receipts and
//! files scenarios: READ frames and their pacing, MARKs sent, files moved,
//! and the latency of chat that does not touch the file's connection. Each
//! worker keeps one per window; the coordinator merges them.
//!
//! It reads no sockets and no clocks: the workers fill it in.

use crate::stats;
use hdrhistogram::Histogram;

/// One window's extra figures, from one worker or merged.
#[derive(Debug, Clone)]
pub struct Extra {
    /// MARK frames sent while measuring (receipts).
    pub marks: u64,
    /// READ frames received while measuring.
    pub reads: u64,
    /// The most READs one member received from one reader while measuring:
    /// the server may send one per reader and room per second.
    pub read_pair_max: u64,
    /// (member, reader) pairs that received a READ during the window.
    pub read_pairs: u64,
    /// Pairs that should have and did not (a window with MARK, a room of
    /// at most 100 members).
    pub read_pairs_missing: u64,
    /// READs that broke a rule: over the pace, a marker going back, the
    /// reader's own, another room's, or any in a room over 100 members.
    pub read_violations: u64,
    /// The shortest time between two READs of one pair (ns; 0: none).
    pub read_min_gap_ns: u64,
    /// Files: transfers completed after the warm-up.
    pub transfers: u64,
    /// Files: their bytes.
    pub file_bytes: u64,
    /// Files: their durations added up (ns), from UPLOAD (FETCH) to its
    /// ACK (last FILE_DATA).
    pub file_ns: u64,
    /// Files, uploads: the durations until the last CHUNK was handed to
    /// the kernel (ns), i.e. without the server's final sync.
    pub wire_ns: u64,
    /// Files: downloaded bytes that differed from what was uploaded, or
    /// came at the wrong offset.
    pub file_errors: u64,
    /// Files: latency of chat between two connections that do not carry
    /// the file (ns); the main histogram has the file connection's chat.
    pub side: Histogram<u64>,
}

impl Default for Extra {
    fn default() -> Extra {
        Extra {
            marks: 0,
            reads: 0,
            read_pair_max: 0,
            read_pairs: 0,
            read_pairs_missing: 0,
            read_violations: 0,
            read_min_gap_ns: 0,
            transfers: 0,
            file_bytes: 0,
            file_ns: 0,
            wire_ns: 0,
            file_errors: 0,
            side: stats::histogram(),
        }
    }
}

impl Extra {
    /// Adds `o` in: counts add up, the pair maximum and the gap minimum
    /// are kept, histograms merge.
    pub fn add(&mut self, o: &Extra) {
        self.marks += o.marks;
        self.reads += o.reads;
        self.read_pair_max = self.read_pair_max.max(o.read_pair_max);
        self.read_pairs += o.read_pairs;
        self.read_pairs_missing += o.read_pairs_missing;
        self.read_violations += o.read_violations;
        self.read_min_gap_ns = min_gap(self.read_min_gap_ns, o.read_min_gap_ns);
        self.transfers += o.transfers;
        self.file_bytes += o.file_bytes;
        self.file_ns += o.file_ns;
        self.wire_ns += o.wire_ns;
        self.file_errors += o.file_errors;
        let _ = self.side.add(&o.side);
    }

    /// Notes a gap between two READs of one pair.
    pub fn read_gap(&mut self, ns: u64) {
        self.read_min_gap_ns = min_gap(self.read_min_gap_ns, ns.max(1));
    }
}

/// The smaller of two gaps, 0 meaning none.
fn min_gap(a: u64, b: u64) -> u64 {
    match (a, b) {
        (0, x) | (x, 0) => x,
        (a, b) => a.min(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_adds_counts_keeps_extremes() {
        let mut a = Extra { reads: 2, read_pair_max: 3, ..Extra::default() };
        a.read_gap(900);
        a.side.record(10).unwrap();
        let mut b = Extra { reads: 5, read_pair_max: 2, transfers: 1, ..Extra::default() };
        b.read_gap(1200);
        b.side.record(20).unwrap();
        a.add(&b);
        assert_eq!((a.reads, a.read_pair_max, a.transfers), (7, 3, 1));
        assert_eq!((a.read_min_gap_ns, a.side.len()), (900, 2));
        let mut c = Extra::default();
        c.add(&Extra::default());
        assert_eq!(c.read_min_gap_ns, 0, "no gap seen stays none");
    }
}
