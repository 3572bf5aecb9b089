import Foundation
import Testing
@testable import trireme
import TestSupport

/// The CLI's shared output helpers (pure; the CLI against a live cluster is in
/// `ObservabilityTests.checkCLI`).
@Suite(.ownThreads) struct CLIOutputTests {
    @Test func tableColumnsLineUpAndNumbersAlignRight() {
        let text = Output.table(["NAME", "STATE", "QUEUED"], [["a", "running", "7"], ["longer-name", "dead", "1234"]], colour: false)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines == [
            "NAME         STATE    QUEUED",
            "a            running       7",
            "longer-name  dead       1234",
        ])
    }

    @Test func colourCodesNeverShiftTheColumns() {
        let rows = [["t1", "dead", "x"], ["t22", "succeeded", "y"]]
        let plain = Output.table(["ID", "STATE", "NOTE"], rows, colour: false)
        let coloured = Output.table(["ID", "STATE", "NOTE"], rows, colour: true)
        #expect(coloured != plain, "states are coloured")
        #expect(coloured.contains("\u{1B}[31mdead\u{1B}[0m"))
        let stripped = coloured.replacing(/\x{1B}\[[0-9;]*m/, with: "")
        #expect(stripped == plain)
    }

    @Test func unreachableNodesAreNamedWithWhatToTry() {
        let error = APIClient.ClientError.unreachable([("127.0.0.1:1", "connection refused: nothing listens there")])
        #expect(error.description.contains("127.0.0.1:1: connection refused"))
        #expect(error.description.contains("--server HOST:PORT"))
    }
}
