import Raft

/// A directed link between two nodes.
struct Link: Hashable {
    var from: NodeID
    var to: NodeID
}

/// What travels through the simulated network: a Raft message, or the host-level report that a
/// snapshot transfer finished (a real host learns that from its streaming code).
enum Packet {
    /// A message and the incarnation of the process that sent it.
    case message(Message, senderIncarnation: Int)
    case snapshotReport(sender: NodeID, peer: NodeID, success: Bool, incarnation: Int)

    var destination: NodeID {
        switch self {
        case .message(let m, _): m.to
        case .snapshotReport(let sender, _, _, _): sender
        }
    }

    /// The queue it travels in: its link, or the sender's own "loopback" for host reports.
    var link: Link {
        switch self {
        case .message(let m, _): Link(from: m.from, to: m.to)
        case .snapshotReport(let sender, _, _, _): Link(from: sender, to: sender)
        }
    }
}

/// Packets in flight, one queue per directed link. A link is FIFO like the TCP stream a real
/// transport uses, each packet with a random delay; with `reorderRate` a packet is slipped in at
/// a random place of its queue instead (a reconnect, another stream). Loss and duplication are
/// per packet; partitions block directed links and drop what is already in flight on them when
/// it arrives. Deliveries pick a random link whose head is due, so links interleave freely.
///
/// A link holds at most `linkCapacity` packets; a packet sent into a full link is dropped, as the
/// node's `PeerLink` drops a batch when its channel is above the write-buffer high-water mark. An
/// unbounded link is not what the transport does, and it let a leader that re-sent its whole
/// in-flight window to a lossy follower pile up thousands of stale appends, which then took longer
/// to drain than the post-heal read check allows (finding F4, seed 201271).
struct SimNetwork {
    struct InFlight {
        var deliverAt: Int
        var packet: Packet
    }

    private var queues: [[InFlight]]
    private let nodeCount: Int
    var blocked: Set<Link> = []
    var lossRate = 0.0
    var duplicateRate = 0.0
    var reorderRate = 0.0
    var maxDelayTicks = 1
    /// Packets a link holds at most (see the type's comment).
    var linkCapacity = 1024
    /// Packets lost to `lossRate` and slipped ahead by `reorderRate` (for coverage), and packets
    /// dropped because their link was full.
    private(set) var lost = 0
    private(set) var reordered = 0
    private(set) var overflowed = 0

    init(nodeCount: Int) {
        self.nodeCount = nodeCount
        queues = Array(repeating: [], count: nodeCount * nodeCount)
    }

    private func slot(_ link: Link) -> Int {
        Int(link.from.rawValue - 1) * nodeCount + Int(link.to.rawValue - 1)
    }

    var inFlightCount: Int { queues.reduce(0) { $0 + $1.count } }

    func isBlocked(_ from: NodeID, _ to: NodeID) -> Bool {
        !blocked.isEmpty && blocked.contains(Link(from: from, to: to))
    }

    /// Queues `packet`; returns false when it was lost on the way in.
    mutating func send(_ packet: Packet, now: Int, rng: inout SplitMix64) -> Bool {
        if case .message(let m, _) = packet {
            if isBlocked(m.from, m.to) { return false }
            if rng.chance(lossRate) {
                lost += 1
                return false
            }
            if queues[slot(packet.link)].count >= linkCapacity {
                overflowed += 1
                return false
            }
        }
        enqueue(packet, at: now + rng.int(0...maxDelayTicks), rng: &rng)
        return true
    }

    /// A copy of `packet` arrives again later.
    mutating func redeliver(_ packet: Packet, now: Int, rng: inout SplitMix64) {
        enqueue(packet, at: now + rng.int(1...maxDelayTicks + 1), rng: &rng)
    }

    private mutating func enqueue(_ packet: Packet, at time: Int, rng: inout SplitMix64) {
        let i = slot(packet.link)
        if !queues[i].isEmpty && rng.chance(reorderRate) {
            reordered += 1
            queues[i].insert(InFlight(deliverAt: time, packet: packet), at: rng.int(0...queues[i].count - 1))
        } else {
            // FIFO: never before the packet sent ahead of it.
            let after = queues[i].last?.deliverAt ?? time
            queues[i].append(InFlight(deliverAt: max(time, after), packet: packet))
        }
    }

    /// Links whose head packet is due and whose destination can take input now.
    func due(now: Int, canReceive: (NodeID) -> Bool) -> [Int] {
        queues.indices.filter { i in
            guard let head = queues[i].first else { return false }
            return head.deliverAt <= now && canReceive(head.packet.destination)
        }
    }

    /// Removes and returns the head packet of the link `position` (from `due`).
    mutating func take(_ position: Int) -> Packet {
        queues[position].removeFirst().packet
    }

    /// Cuts every link from `side` to the rest (and back, when `symmetric`).
    mutating func partition(_ side: Set<NodeID>, from all: [NodeID], symmetric: Bool) {
        for a in side {
            for b in all where !side.contains(b) {
                blocked.insert(Link(from: a, to: b))
                if symmetric { blocked.insert(Link(from: b, to: a)) }
            }
        }
    }

    mutating func heal() { blocked.removeAll() }
}
