import Foundation
import Testing
@testable import Preprocess

@Suite struct DataRootTests {
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

    /// Paths are never percent-decoded: `%2e%2e` is a file name like any other.
    @Test func percentEncodingIsLiteral() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        #expect(throws: PathError.notFound("%2e%2e/canary.txt")) { try f.root.resolve("%2e%2e/canary.txt") }
        #expect(try f.root.resolve("%2e%2e%2fcanary.txt", mustExist: false) == f.root.path + "/%2e%2e%2fcanary.txt")
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
