import Foundation
import Testing
@testable import Preprocess
import TestSupport

@Suite(.ownThreads) struct CleanSpecTests {
    func decode(_ json: String) throws -> CSVCleanSpec {
        try CSVCleanSpec.decode(json: Array(json.utf8))
    }

    @Test func decodesEveryField() throws {
        let s = try decode("""
            {"select":["name","price"],"rename":{"price":"cost"},"casts":{"price":"double"},
             "missing":{"action":"fill","fill":{"price":"0"}},"trim":true,"lowercase":["name"],
             "filter":[{"column":"price","op":"ge","value":1.5}],"dedupe":true,
             "normalize":{"price":"zscore"},"output":"jsonl","malformed":"fail","maxRecordBytes":4096}
            """)
        #expect(s.select == ["name", "price"])
        #expect(s.casts == ["price": .double])
        #expect(s.missing.action == .fill && s.missing.fill == ["price": "0"])
        #expect(s.filter == [CSVCleanSpec.Predicate(column: "price", op: .ge, value: "1.5")])
        #expect(s.normalize == ["price": .zscore] && s.output == .jsonl && s.malformed == .fail && s.dedupe)
        #expect(s.maxRecordBytes == 4096 && s.maxDepth == 64)
        #expect(try decode("{}") == CSVCleanSpec())
    }

    @Test(arguments: [
        ("{\"bogus\":1}", "bogus"),
        ("{\"casts\":{\"price\":\"float\"}}", "casts.price"),
        ("{\"filter\":[{\"column\":\"a\",\"op\":\"like\",\"value\":\"x\"}]}", "filter[0].op"),
        ("{\"filter\":[{\"op\":\"eq\",\"value\":\"x\"}]}", "filter[0].column"),
        ("{\"trim\":\"yes\"}", "trim"),
        ("{\"malformed\":\"ignore\"}", "malformed"),
    ])
    func decodingErrorsNameTheField(json: String, field: String) {
        #expect {
            _ = try decode(json)
        } throws: { error in
            guard case PreprocessError.invalidParameter(let f, _) = error else { return false }
            return f == field
        }
    }

    @Test(arguments: [
        ("{\"select\":[\"a\",\"zz\"]}", "select[1]"),
        ("{\"select\":[\"a\",\"a\"]}", "select[1]"),
        ("{\"select\":[\"a\"],\"lowercase\":[\"b\"]}", "lowercase[0]"),
        ("{\"casts\":{\"b\":\"bool\"},\"normalize\":{\"b\":\"minmax\"}}", "normalize.b"),
        ("{\"rename\":{\"a\":\"b\"}}", "rename"),
        ("{\"missing\":{\"action\":\"fill\"}}", "missing.fill"),
        ("{\"filter\":[{\"column\":\"q\",\"op\":\"eq\",\"value\":1}]}", "filter[0].column"),
        ("{\"maxRecordBytes\":9999999999}", "maxRecordBytes"),
        ("{\"maxDepth\":0}", "maxDepth"),
    ])
    func validationNamesTheField(json: String, field: String) throws {
        let spec = try decode(json)
        #expect {
            try spec.validate(header: ["a", "b", "c"])
        } throws: { error in
            guard case PreprocessError.invalidParameter(let f, _) = error else { return false }
            return f == field
        }
    }
}
