import Foundation
import Testing
@testable import Preprocess
import TestSupport

@Suite(.ownThreads) struct DataRootTests {
    /// A root with `data/in.txt`, and a canary file outside it that must never be read.
    struct Fixture {
        let dir: TempDir
        let root: DataRoot
        let canary: String

        init() throws {
            dir = try TempDir()
            _ = try dir.mkdir("data/sub")
            try dir.write("data/in.txt", "inside\n")
            canary = try dir.write("canary.txt", "SECRET\n")
            root = try DataRoot(dir.path + "/data")
        }
    }

    @Test func acceptsPathsInside() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        #expect(try f.root.resolve("in.txt") == f.root.path + "/in.txt")
        #expect(try f.root.resolve("./in.txt") == f.root.path + "/in.txt")
        #expect(try f.root.resolve(f.root.path + "/in.txt") == f.root.path + "/in.txt")
        #expect(try f.root.resolve("out/new/part", mustExist: false) == f.root.path + "/out/new/part")
        #expect(try f.root.resolve("sub", mustExist: true) == f.root.path + "/sub")
    }

    @Test(arguments: [
        ("../canary.txt", PathError.parentTraversal("../canary.txt")),
        ("sub/../../canary.txt", .parentTraversal("sub/../../canary.txt")),
        ("sub/..", .parentTraversal("sub/..")),
        ("", .empty),
        ("in\u{0}.txt", .containsNUL("in\u{0}.txt")),
        ("/etc/passwd", .outsideRoot(path: "/etc/passwd", resolved: "/etc/passwd")),
        ("missing.txt", .notFound("missing.txt")),
    ])
    func refuses(path: String, expected: PathError) throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        #expect(throws: expected) { try f.root.resolve(path) }
    }

    /// Paths are never percent-decoded, and encoded dots, slashes, NUL or percents (double
    /// encoding) and control characters are refused outright (B9).
    @Test(arguments: ["%2e%2e/canary.txt", "%2e%2e%2fcanary.txt", "%2E%2E%2Fcanary.txt", "..%2fcanary.txt", "%252e%252e%252fcanary.txt",
                      "sub%5c..%5ccanary.txt", "in.txt%00", "%c0%ae%c0%ae/canary.txt", "in\u{1}.txt", "in\n.txt"])
    func encodedTraversalIsRefused(_ path: String) throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        #expect(throws: PathError.encoded(path)) { try f.root.resolve(path, mustExist: false) }
        #expect(throws: PathError.encoded(path)) { try f.root.expandInputs(path) }
        #expect(throws: PreprocessError.path(.encoded(path))) { _ = try f.root.openDescriptorForReading(path) }
    }

    /// Writes: a temp or output directory swapped for a symlink to outside after it was
    /// resolved is caught on the opened descriptor; nothing lands outside the root.
    @Test func aWriterRefusesADirectorySwappedForASymlinkOutside() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let outside = try f.dir.mkdir("outside")
        let resolved = try f.root.resolve("tmp/job1/part", mustExist: false)
        try FileManager.default.createSymbolicLink(atPath: f.root.path + "/tmp", withDestinationPath: f.dir.path)
        _ = try f.dir.mkdir("job1")
        #expect(throws: PreprocessError.self) { _ = try AtomicFileWriter(finalPath: resolved, attempt: "a1", root: f.root) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.dir.path + "/job1").isEmpty, "nothing written outside")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    }

    /// A symlink planted under the writer's temp name is never written through.
    @Test func aWriterNeverWritesThroughAPlantedSymlink() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let final = f.root.path + "/out.txt"
        try FileManager.default.createSymbolicLink(atPath: f.root.path + "/.out.txt.tmp-a1", withDestinationPath: f.canary)
        let writer = try AtomicFileWriter(finalPath: final, attempt: "a1", root: f.root)
        try writer.write("new\n")
        _ = try writer.commit()
        #expect(try String(contentsOfFile: f.canary, encoding: .utf8) == "SECRET\n", "canary untouched")
        #expect(try String(contentsOfFile: final, encoding: .utf8) == "new\n")
    }

    @Test func symlinkEscapingTheRootIsRefused() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try FileManager.default.createSymbolicLink(atPath: f.root.path + "/link.txt", withDestinationPath: f.canary)
        try FileManager.default.createSymbolicLink(atPath: f.root.path + "/linkdir", withDestinationPath: f.dir.path)
        #expect(throws: PathError.outsideRoot(path: "link.txt", resolved: f.canary)) { try f.root.resolve("link.txt") }
        #expect(throws: PathError.self) { try f.root.resolve("linkdir/canary.txt") }
        #expect(throws: PathError.self) { try f.root.resolve("linkdir/new-output", mustExist: false) }
        #expect(throws: PreprocessError.self) { _ = try ReadableFile(path: "link.txt", root: f.root) }
    }

    @Test func symlinkInsideTheRootIsFollowed() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try FileManager.default.createSymbolicLink(atPath: f.root.path + "/alias.txt", withDestinationPath: "in.txt")
        #expect(try f.root.resolve("alias.txt") == f.root.path + "/in.txt")
        let file = try ReadableFile(path: "alias.txt", root: f.root)
        var buf: [UInt8] = []
        _ = try file.read(at: 0, count: 100, appendingTo: &buf)
        #expect(buf == Array("inside\n".utf8))
    }

    @Test func hardLinkIsRefusedAtOpen() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try FileManager.default.linkItem(atPath: f.canary, toPath: f.root.path + "/hard.txt")
        #expect(throws: PreprocessError.path(.hardLinked("hard.txt"))) {
            _ = try f.root.openDescriptorForReading("hard.txt")
        }
    }

    /// The check at open time sees a file swapped for a symlink after an earlier check.
    @Test func swapAfterCheckIsCaughtAtOpen() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        _ = try f.root.resolve("in.txt")
        try FileManager.default.removeItem(atPath: f.root.path + "/in.txt")
        try FileManager.default.createSymbolicLink(atPath: f.root.path + "/in.txt", withDestinationPath: f.canary)
        #expect(throws: PreprocessError.path(.outsideRoot(path: "in.txt", resolved: f.canary))) {
            _ = try f.root.openDescriptorForReading("in.txt")
        }
    }

    @Test func descriptorPathNamesTheOpenedFile() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let fd = try f.root.openDescriptorForReading("in.txt")
        defer { close(fd) }
        #expect(DataRoot.descriptorPath(fd) == f.root.path + "/in.txt")
    }

    @Test func globExpandsTheLastComponentOnly() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.dir.write("data/b.txt", "b")
        try f.dir.write("data/a.txt", "a")
        try f.dir.write("data/c.csv", "c")
        try f.dir.write("data/.hidden.txt", "h")
        #expect(try f.root.expandInputs("*.txt") == ["a.txt", "b.txt", "in.txt"].map { f.root.path + "/" + $0 })
        #expect(try f.root.expandInputs(f.root.path + "/?.csv") == [f.root.path + "/c.csv"])
        #expect(try f.root.expandInputs("in.txt") == [f.root.path + "/in.txt"])
        #expect(throws: PathError.invalidGlob("s*/x.txt")) { try f.root.expandInputs("s*/x.txt") }
        #expect(throws: PathError.parentTraversal("../*.txt")) { try f.root.expandInputs("../*.txt") }
    }

    @Test func rootMustBeADirectory() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        #expect(throws: PathError.notADirectory(f.root.path + "/in.txt")) { try DataRoot(f.root.path + "/in.txt") }
        #expect(throws: PathError.notFound(f.dir.path + "/nope")) { try DataRoot(f.dir.path + "/nope") }
    }
}
