import Raft

/// A node's state machine, reduced to what the checkers need: the applied index and a running
/// hash of every applied (index, term, kind, data), with the hash after each index so a snapshot
/// image can be cut at any applied index. It is durable (it survives crashes), like the SQLite
/// store whose `applied_index` is written in the same transaction as the change (I9).
struct StateMachineModel {
    private(set) var applied: LogIndex = .zero
    private(set) var hash: UInt64 = StateMachineModel.emptyHash
    /// (term, hash after applying) per applied index; absent for indexes skipped by a snapshot.
    private(set) var history: [UInt64: (term: Term, hash: UInt64)] = [:]

    static let emptyHash: UInt64 = 0xCBF2_9CE4_8422_2325

    static func chain(_ hash: UInt64, _ entry: Entry) -> UInt64 {
        var h = hash
        func mix(_ byte: UInt8) { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        for shift in stride(from: 0, to: 64, by: 8) {
            mix(UInt8(truncatingIfNeeded: entry.index.rawValue >> UInt64(shift)))
            mix(UInt8(truncatingIfNeeded: entry.term.rawValue >> UInt64(shift)))
        }
        mix(entry.kind.rawValue)
        for byte in entry.data { mix(byte) }
        return h
    }

    mutating func apply(_ entry: Entry) {
        precondition(entry.index == applied.next, "the host applies in order")
        hash = Self.chain(hash, entry)
        applied = entry.index
        history[entry.index.rawValue] = (entry.term, hash)
    }

    /// Replaces the state with a snapshot image taken at a later index.
    mutating func restore(_ image: SnapshotImage) {
        precondition(image.index > applied, "a snapshot never moves the state machine back")
        applied = image.index
        hash = image.hash
        history[image.index.rawValue] = (image.term, image.hash)
    }

    /// The image at `index` (an applied index this state machine has a hash for).
    func image(at index: LogIndex) -> SnapshotImage? {
        history[index.rawValue].map { SnapshotImage(index: index, term: $0.term, hash: $0.hash) }
    }
}

/// The state machine image a snapshot carries: where it was cut and the hash there.
struct SnapshotImage: Hashable {
    var index: LogIndex
    var term: Term
    var hash: UInt64

    var bytes: [UInt8] {
        [index.rawValue, term.rawValue, hash].flatMap { value in
            (0..<8).map { UInt8(truncatingIfNeeded: value >> UInt64($0 * 8)) }
        }
    }

    init(index: LogIndex, term: Term, hash: UInt64) {
        self.index = index
        self.term = term
        self.hash = hash
    }

    /// Parses bytes from the network; nil when they are not an image.
    init?(bytes: [UInt8]) {
        guard bytes.count == 24 else { return nil }
        func word(_ at: Int) -> UInt64 {
            (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << UInt64($1 * 8) }
        }
        self.init(index: LogIndex(word(0)), term: Term(word(8)), hash: word(16))
    }
}
