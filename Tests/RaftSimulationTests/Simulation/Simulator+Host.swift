import Raft

/// The host loop of one node, exactly per the `Effects` contract: send `messages`; install the
/// snapshot and persist hard state + entries; send `messagesAfterPersist`; apply
/// `committedEntries` and serve `readStates`; acknowledge. A batch may stop after any phase
/// (left pending while other nodes run) and a planned crash may hit it there.
extension Simulator {
    func advanceBatch(_ node: SimNode) throws(Violation) {
        if node.batch == nil {
            guard let effects = node.raft?.takeEffects() else { return }
            node.batch = SimNode.Batch(effects: effects, phase: .taken, leaderTerm: node.role == .leader ? node.term : nil)
            record(.batch(node.id, number: effects.number, entries: effects.entries.count,
                          committed: effects.committedEntries.count, hardState: effects.hardState,
                          snapshot: effects.snapshot?.metadata.index))
            if try crashIfPlanned(node, at: .taken) { return }
        }
        let stopAfter: SimNode.Phase? = faultsActive && rng.chance(options.splitBatchRate) ? rng.pick(SimNode.Phase.allCases) : nil
        while let batch = node.batch {
            guard let next = SimNode.Phase(rawValue: batch.phase.rawValue + 1) else {
                return try finishBatch(node, batch.effects.number)
            }
            switch next {
            case .taken: break
            case .sent: try send(batch.effects.messages, from: node, afterPersist: false)
            case .persisted: if try !persist(batch, on: node) { return }
            case .sentAfterPersist: try send(batch.effects.messagesAfterPersist, from: node, afterPersist: true)
            case .applied: try apply(batch.effects, on: node)
            }
            node.batch?.phase = next
            if try crashIfPlanned(node, at: next) { return }
            if stopAfter == next {
                stats.splitBatches += 1
                return
            }
        }
    }

    private func crashIfPlanned(_ node: SimNode, at phase: SimNode.Phase) throws(Violation) -> Bool {
        guard node.crashAt == phase else { return false }
        crash(node, reason: "mid-batch, after \(phase)")
        return true
    }

    private func finishBatch(_ node: SimNode, _ number: UInt64) throws(Violation) {
        node.batch = nil
        node.raft?.acknowledge(number)
        try observe(node)
        while node.owedTicks > 0, node.isUp {
            node.owedTicks -= 1
            node.raft?.tick()
            try observe(node)
        }
        for peer in node.unreachable.sorted() {
            node.raft?.reportUnreachable(peer)
            try observe(node)
        }
        node.unreachable.removeAll()
        try checkConfigurationIfQuiescent(node)
        if faultsActive, options.enabledFaults.contains(.snapshot), rng.chance(0.2) { try takeSnapshot(node) }
    }

    func send(_ messages: [Message], from node: SimNode, afterPersist: Bool) throws(Violation) {
        for var message in messages {
            try checker.checkSend(message, senderStore: node.storage)
            if case .installSnapshot(var snapshot) = message.payload, snapshot.data.isEmpty {
                guard let image = node.images[snapshot.metadata.index.rawValue] else {
                    throw Violation(.storageContract, "\(node.id) was asked to send a snapshot at \(snapshot.metadata.index) it never took")
                }
                snapshot.data = image.bytes
                message.payload = .installSnapshot(snapshot)
            }
            let packet = Packet.message(message, senderIncarnation: node.incarnation)
            if network.isBlocked(message.from, message.to) || !(self.node(message.to)?.isUp ?? false) {
                // The connection fails at once: the host tells the core after this batch.
                node.unreachable.insert(message.to)
            }
            if network.send(packet, now: now, rng: &rng) {
                record(.send(message, afterPersist: afterPersist))
            } else {
                record(.drop(message, reason: "lost on send"))
                reportSnapshotOutcome(packet, success: false)
            }
        }
    }

    /// Returns false when the disk failed (the node fail-stops: it is crashed here).
    private func persist(_ batch: SimNode.Batch, on node: SimNode) throws(Violation) -> Bool {
        let effects = batch.effects
        if effects.snapshot != nil || effects.entries.contains(where: { $0.kind == .configurationChange })
            || effects.entries.first.map({ $0.index <= node.storage.lastIndex }) == true {
            node.configurationCheckDue = true
        }
        if let snapshot = effects.snapshot {
            guard try disk(node, "cannot install snapshot \(snapshot.metadata.index)", { () throws(LogStorageError) in
                try node.storage.applySnapshot(snapshot.metadata)
            }) else { return false }
            guard let image = SnapshotImage(bytes: snapshot.data), image.index == snapshot.metadata.index,
                  image.term == snapshot.metadata.term
            else { throw Violation(.storageContract, "\(node.id) got snapshot \(snapshot.metadata.index) without a matching state image") }
            node.images[image.index.rawValue] = image
            try restore(image, on: node)
        }
        guard effects.hardState != nil || !effects.entries.isEmpty else { return true }
        try checker.checkTruncation(node.id, leaderTerm: batch.leaderTerm, store: node.storage, newEntries: effects.entries)
        guard try disk(node, "rejected batch #\(effects.number)", { () throws(LogStorageError) in
            try node.storage.save(hardState: effects.hardState, entries: effects.entries)
        }) else { return false }
        try checker.observeSave(node.id, store: node.storage, entries: effects.entries, hardState: effects.hardState)
        return true
    }

    /// Runs a disk write. An I/O error fail-stops the node (returns false); any other error means
    /// the core handed the host something the storage contract forbids.
    private func disk(_ node: SimNode, _ what: String, _ write: () throws(LogStorageError) -> Void) throws(Violation) -> Bool {
        do {
            try write()
            return true
        } catch .io(let why) {
            crash(node, reason: "disk failed: \(why)")
            return false
        } catch {
            throw Violation(.storageContract, "\(node.id) \(what): \(error)")
        }
    }

    private func apply(_ effects: Effects, on node: SimNode) throws(Violation) {
        for entry in effects.committedEntries {
            if entry.index <= node.stateMachine.applied {
                // Re-delivered after a restart: the durable state machine already has it.
                try checker.observeReapply(node.id, entry: entry)
                continue
            }
            guard entry.index == node.stateMachine.applied.next else {
                throw Violation(.appliedInOrder, "\(node.id) was handed \(entry.index) to apply after \(node.stateMachine.applied)")
            }
            node.stateMachine.apply(entry)
            try checker.observeApply(node.id, entry: entry, hashAfter: node.stateMachine.hash)
        }
        for state in effects.readStates {
            try checker.observeReadState(node.id, state)
            stats.readStates += 1
        }
    }

    private func restore(_ image: SnapshotImage, on node: SimNode) throws(Violation) {
        if image.index > node.stateMachine.applied {
            try checker.observeSnapshotRestore(node.id, image: image)
            node.stateMachine.restore(image)
            stats.snapshotsInstalled += 1
        } else if let mine = node.stateMachine.image(at: image.index), mine != image {
            throw Violation(.stateMachineSafety, "\(node.id) got a snapshot at \(image.index) that differs from its own state there")
        }
    }

    /// Host-initiated compaction: cut a snapshot at the applied index, record it on disk, tell
    /// the core it may drop the log up to there.
    func takeSnapshot(_ node: SimNode) throws(Violation) {
        let index = min(node.stateMachine.applied, node.statusApplied)
        let due = node.storage.snapshotIndex + UInt64(options.snapshotThreshold)
        guard node.isIdle(now: now), node.batch == nil, index >= due, let image = node.stateMachine.image(at: index),
              let inForce = node.raft?.configuration(at: index)
        else { return }
        // The configuration in force at the snapshot's index, as the node's host does.
        let metadata = SnapshotMetadata(index: index, term: image.term, configuration: inForce)
        guard try disk(node, "cannot record its own snapshot at \(index)", { () throws(LogStorageError) in
            try node.storage.applySnapshot(metadata)
        }) else { return }
        node.images[index.rawValue] = image
        node.raft?.compact(to: metadata)
        node.configurationCheckDue = true
        record(.snapshot(node.id, index))
        stats.snapshotsTaken += 1
        stats.faultsFired.insert(.snapshot)
        try observe(node)
    }
}
