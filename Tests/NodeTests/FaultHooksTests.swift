import Foundation
import Testing
@testable import Node

@Suite struct FaultHooksTests {
    @Test func theSlowDiskDelayFollowsItsFileClampedAndOffWithoutIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("faulthooks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("fault-fsync-delay-ms")
        let hooks = FaultHooks(dataDir: dir.path, recheck: .zero)
        #expect(hooks.currentDelayMs() == 0, "no file: no delay")
        for (text, expected) in [("50\n", 50), (" 7 ", 7), ("junk", 0), ("-5", 0), ("99999", 10_000), ("", 0)] {
            try Data(text.utf8).write(to: file)
            #expect(hooks.currentDelayMs() == expected, "\(text.debugDescription)")
        }
        try Data("20".utf8).write(to: file)
        #expect(hooks.currentDelayMs() == 20)
        try FileManager.default.removeItem(at: file)
        #expect(hooks.currentDelayMs() == 0, "removing the file heals the disk")
    }

    @Test func theFileIsReadAtMostOncePerRecheckInterval() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("faulthooks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("fault-fsync-delay-ms")
        let hooks = FaultHooks(dataDir: dir.path, recheck: .seconds(3_600))
        try Data("30".utf8).write(to: file)
        #expect(hooks.currentDelayMs() == 30)
        try FileManager.default.removeItem(at: file)
        #expect(hooks.currentDelayMs() == 30, "cached until the recheck interval has passed")
    }
}
