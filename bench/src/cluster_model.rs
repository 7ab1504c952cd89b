//! The capacity model of a cluster, from the cluster section's medians:
//! the nodes' CPU per message split into a part every node pays once per
//! message of a room it has members in, and a part per delivery (two room
//! sizes at one node count give both); Redis's CPU per message as a line
//! in the node count (every node is one more subscriber of the room's
//! channel); and from those, messages per second a Redis core and a node
//! core can carry, and connections a node and a Redis can hold in a given
//! memory.
//!
//! Pure arithmetic, no I/O: `render_cluster.rs` shows the formulas next to
//! the numbers.

/// One fan-out setup's medians.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Nodes (0: one banterd without `--cluster`).
    pub nodes: usize,
    /// Receivers of the room.
    pub receivers: usize,
    /// CPU of all nodes together per delivery, µs.
    pub node_us_per_delivery: f64,
    /// Redis's CPU per message published, µs (`None` without Redis).
    pub redis_us_per_msg: Option<f64>,
}

/// The nodes' CPU per message of a room of R receivers spread over N
/// nodes: `N × per_message + R × per_delivery` (µs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Split {
    /// Node count it was measured at (0: the plain banterd).
    pub nodes: usize,
    /// What each node pays once per message (µs): taking it from Redis
    /// (or, alone, from the sender), ordering it, starting the fan-out.
    pub per_message: f64,
    /// What a node pays per delivery to one of its members (µs).
    pub per_delivery: f64,
}

/// The split at `nodes` from its smallest and largest room: per delivery
/// = ΔC / ΔR where C = R × (µs per delivery) is the CPU per message;
/// per message = (C(R₁) − R₁ × per delivery) / N. `None` unless two room
/// sizes were measured.
pub fn split(points: &[Point], nodes: usize) -> Option<Split> {
    let mut at: Vec<&Point> = points.iter().filter(|p| p.nodes == nodes).collect();
    at.sort_by_key(|p| p.receivers);
    let (a, b) = (at.first()?, at.last()?);
    if b.receivers <= a.receivers {
        return None;
    }
    let cost = |p: &Point| p.node_us_per_delivery * p.receivers as f64;
    let per_delivery = (cost(b) - cost(a)) / (b.receivers - a.receivers) as f64;
    let per_message = (cost(a) - a.receivers as f64 * per_delivery) / nodes.max(1) as f64;
    Some(Split { nodes, per_message, per_delivery })
}

/// Redis's CPU per message as `a + b × N` (µs), least squares over the
/// node counts measured (each node count's mean over room sizes).
/// `None` with fewer than two node counts.
pub fn redis_line(points: &[Point]) -> Option<(f64, f64)> {
    let mut per_n: Vec<(f64, f64)> = Vec::new();
    let mut ns: Vec<usize> = points.iter().filter(|p| p.nodes > 0).map(|p| p.nodes).collect();
    ns.sort_unstable();
    ns.dedup();
    for n in ns {
        let v: Vec<f64> =
            points.iter().filter(|p| p.nodes == n).filter_map(|p| p.redis_us_per_msg).collect();
        if !v.is_empty() {
            per_n.push((n as f64, v.iter().sum::<f64>() / v.len() as f64));
        }
    }
    if per_n.len() < 2 {
        return None;
    }
    let k = per_n.len() as f64;
    let (mx, my) =
        (per_n.iter().map(|p| p.0).sum::<f64>() / k, per_n.iter().map(|p| p.1).sum::<f64>() / k);
    let sxx: f64 = per_n.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = per_n.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let b = sxy / sxx;
    Some((my - b * mx, b))
}

/// Messages per second one Redis core carries for N nodes: 10⁶ / (a + bN).
pub fn redis_msgs_per_s((a, b): (f64, f64), nodes: usize) -> Option<f64> {
    rate(a + b * nodes as f64)
}

/// Messages per second of one room of R receivers that one node core
/// carries when the room is spread over N nodes: 10⁶ / (m + (R/N) × d).
pub fn node_msgs_per_s(s: &Split, receivers: usize, nodes: usize) -> Option<f64> {
    rate(s.per_message + receivers as f64 / nodes.max(1) as f64 * s.per_delivery)
}

/// Deliveries per second one node core makes in rooms large enough that
/// the per-message part vanishes: 10⁶ / d.
pub fn node_deliveries_per_s(s: &Split) -> Option<f64> {
    rate(s.per_delivery)
}

/// Connections that `bytes` of memory hold at `per_conn` bytes each.
pub fn conns_in(bytes: f64, per_conn: f64) -> Option<f64> {
    (per_conn > 0.0).then(|| bytes / per_conn)
}

/// Events per second at `us` µs each (`None` unless positive).
fn rate(us: f64) -> Option<f64> {
    (us > 0.0 && us.is_finite()).then(|| 1e6 / us)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(nodes: usize, receivers: usize, per_delivery: f64, redis: f64) -> Point {
        Point {
            nodes,
            receivers,
            node_us_per_delivery: per_delivery,
            redis_us_per_msg: Some(redis),
        }
    }

    #[test]
    fn the_split_recovers_per_message_and_per_delivery_costs() {
        // 2 nodes, m = 10 µs each, d = 0.5 µs: C(100) = 70, C(1000) = 520.
        let points = [pt(2, 100, 0.7, 30.0), pt(2, 1000, 0.52, 30.0)];
        let s = split(&points, 2).unwrap();
        assert!(
            (s.per_delivery - 0.5).abs() < 1e-9 && (s.per_message - 10.0).abs() < 1e-9,
            "{s:?}"
        );
        assert!(split(&points[..1], 2).is_none(), "one room size cannot be split");
        assert!(split(&points, 3).is_none());
        // One node core: 10 + 500 × 0.5 = 260 µs per message of a room of
        // 1000 over 2 nodes; 2 µs... 500 000 deliveries/s.
        assert!((node_msgs_per_s(&s, 1000, 2).unwrap() - 1e6 / 260.0).abs() < 1e-6);
        assert_eq!(node_deliveries_per_s(&s), Some(2e6));
    }

    #[test]
    fn redis_is_a_line_in_the_node_count() {
        let points = [
            pt(1, 100, 1.0, 20.0),
            pt(1, 1000, 1.0, 22.0),
            pt(2, 100, 1.0, 26.0),
            pt(3, 100, 1.0, 31.0),
        ];
        let (a, b) = redis_line(&points).unwrap();
        // Means 21, 26, 31: a = 16, b = 5.
        assert!((a - 16.0).abs() < 1e-9 && (b - 5.0).abs() < 1e-9, "{a} {b}");
        assert_eq!(redis_msgs_per_s((a, b), 4), Some(1e6 / 36.0));
        assert!(redis_line(&points[..2]).is_none(), "one node count gives no line");
        assert_eq!(redis_msgs_per_s((0.0, 0.0), 1), None);
        assert_eq!(conns_in(1e9, 250.0), Some(4e6));
        assert_eq!(conns_in(1e9, 0.0), None);
    }
}
