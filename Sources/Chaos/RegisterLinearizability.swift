/// Linearizability of single-value registers (a queue's config field written by PATCH and read
/// by GET), decided by the Wing–Gong search with Lowe's memoization, as in Porcupine: walk the
/// history's call/return events in time order, try to linearize each pending call in turn, and
/// backtrack when a return is reached whose call has not taken effect yet. A visited
/// (set of linearized operations, register value) pair is never explored twice.
///
/// Outcomes: a write that failed definitely never happened and is dropped; a write with an
/// unknown outcome may take effect at any time after its invoke, or never: its return is placed
/// at +∞, so it can be linearized after every other operation, which is the same as "never" for
/// reads. Reads count only when they returned a value (ok).
/// Each register is checked on its own (linearizability is compositional).
public struct RegisterLinearizability: Sendable {
    public enum Verdict: Sendable, Equatable {
        case linearizable
        /// No order exists. `stuckAt` is the operation that could not be placed at the deepest
        /// point the search reached (the longest linearizable prefix): usually the stale read.
        case violation(key: String, stuckAt: ClientOp)
        /// The search exceeded its step budget: neither proven nor refuted.
        case inconclusive(key: String)
    }

    /// Bounds the search (it is exponential in the worst case).
    public var stepsMax: Int

    public init(stepsMax: Int = 5_000_000) {
        self.stepsMax = stepsMax
    }

    /// One verdict per register key, sorted by key.
    public func check(_ history: History) -> [String: Verdict] {
        // Written values are unique, so an unknown write whose value no read returned can be
        // placed after everything else (at +∞) in any linearization: dropping it is exact, and
        // it keeps the search from branching over writes that may or may not have happened.
        var readValues: [String: Set<Int64>] = [:]
        for op in history.operations where op.kind == .readRegister && op.outcome == .ok {
            if let key = op.key, let value = op.value { readValues[key, default: []].insert(value) }
        }
        var byKey: [String: [ClientOp]] = [:]
        for op in history.operations {
            guard let key = op.key else { continue }
            switch (op.kind, op.outcome) {
            case (.writeRegister, .unknown):
                if let value = op.value, readValues[key]?.contains(value) == true { byKey[key, default: []].append(op) }
            case (.writeRegister, .ok), (.readRegister, .ok):
                byKey[key, default: []].append(op)
            default:
                continue
            }
        }
        var verdicts: [String: Verdict] = [:]
        for (key, ops) in byKey {
            verdicts[key] = check(key: key, ops, initial: history.initialRegisters[key])
        }
        return verdicts
    }

    struct Event {
        var time: Int64
        var isCall: Bool
        var op: Int
    }

    struct Visited: Hashable {
        var bits: [UInt64]
        var value: Int64?
    }

    func check(key: String, _ ops: [ClientOp], initial: Int64?) -> Verdict {
        var events: [Event] = []
        for (i, op) in ops.enumerated() {
            events.append(Event(time: op.invokeNs, isCall: true, op: i))
            let end = op.outcome == .unknown ? Int64.max : op.completeNs
            events.append(Event(time: end, isCall: false, op: i))
        }
        // Calls before returns at equal times: treating touching operations as concurrent can
        // only accept more orders, never report a false violation.
        events.sort { a, b in a.time != b.time ? a.time < b.time : (a.isCall && !b.isCall) }
        var list = EventList(events)
        var bits = [UInt64](repeating: 0, count: ops.count / 64 + 1)
        var value = initial
        var stack: [(call: Int, value: Int64?)] = []
        var visited: Set<Visited> = []
        var cursor = list.first
        var steps = 0
        var deepest = (depth: -1, op: 0)
        while let entry = cursor {
            steps += 1
            if steps > stepsMax { return .inconclusive(key: key) }
            let event = list.events[entry]
            if event.isCall {
                let op = ops[event.op]
                if let next = Self.step(value, op) {
                    var newBits = bits
                    newBits[event.op / 64] |= 1 << UInt64(event.op % 64)
                    if visited.insert(Visited(bits: newBits, value: next)).inserted {
                        stack.append((entry, value))
                        value = next
                        bits = newBits
                        list.lift(entry)
                        cursor = list.first
                        continue
                    }
                }
                cursor = list.next[entry]
            } else {
                if stack.count > deepest.depth { deepest = (stack.count, event.op) }
                guard let (call, previous) = stack.popLast() else {
                    return .violation(key: key, stuckAt: ops[deepest.op])
                }
                let op = list.events[call].op
                bits[op / 64] &= ~(1 << UInt64(op % 64))
                value = previous
                list.unlift(call)
                cursor = list.next[call]
            }
        }
        return .linearizable
    }

    /// The register model: a write always applies, a read must see the current value.
    static func step(_ value: Int64?, _ op: ClientOp) -> Int64?? {
        switch op.kind {
        case .writeRegister: return .some(op.value)
        case .readRegister: return op.value == value ? .some(value) : nil
        default: return nil
        }
    }
}

/// A doubly linked list over the sorted events, where a call and its return can be lifted out
/// together and put back in the same place (Porcupine's `lift`/`unlift`).
struct EventList {
    let events: [RegisterLinearizability.Event]
    var next: [Int?]
    var prev: [Int?]
    var first: Int?
    /// For each call entry, the index of its return entry.
    let match: [Int]

    init(_ events: [RegisterLinearizability.Event]) {
        self.events = events
        let n = events.count
        next = (0..<n).map { $0 + 1 < n ? $0 + 1 : nil }
        prev = (0..<n).map { $0 > 0 ? $0 - 1 : nil }
        first = n > 0 ? 0 : nil
        var returnOf: [Int: Int] = [:]
        for (i, e) in events.enumerated() where !e.isCall { returnOf[e.op] = i }
        match = events.map { e in e.isCall ? (returnOf[e.op] ?? -1) : -1 }
    }

    mutating func remove(_ i: Int) {
        if let p = prev[i] { next[p] = next[i] } else { first = next[i] }
        if let n = next[i] { prev[n] = prev[i] }
    }

    /// Re-inserts `i` between the neighbours it had when removed (valid in LIFO order).
    mutating func reinsert(_ i: Int) {
        if let p = prev[i] { next[p] = i } else { first = i }
        if let n = next[i] { prev[n] = i }
    }

    mutating func lift(_ call: Int) {
        precondition(events[call].isCall && match[call] >= 0, "lift needs a call with a return")
        remove(call)
        remove(match[call])
    }

    mutating func unlift(_ call: Int) {
        reinsert(match[call])
        reinsert(call)
    }
}
