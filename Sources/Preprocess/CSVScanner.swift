#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The RFC 4180 state machine, one byte at a time. Both the CSV split planner and the CSV
/// reader run this same machine, so they always agree on where records end, even on malformed
/// input (a stray quote, text after a closing quote, an unterminated quoted field).
///
/// Rules: fields are separated by `,` and records by `\n` or `\r\n` outside quotes; a field
/// that starts with `"` is quoted until a `"` not followed by another `"` (`""` is a literal
/// quote); inside quotes, commas and newlines are data. A `"` inside an unquoted field and text
/// after a closing quote make the record malformed (the bytes are kept as data, so the record
/// still ends where the same file would end it in any other split).
struct CSVScanner: Sendable {
    enum State: Sendable { case fieldStart, unquoted, quoted, quoteInQuoted }

    enum Event: Equatable, Sendable {
        case byte(UInt8)       // data byte of the current field
        case endField
        case endRecord         // the `\n` that ends a record (a preceding `\r` is not data)
        case none
    }

    private(set) var state: State = .fieldStart
    /// Set by the first malformation in the current record; cleared by `endRecord`.
    private(set) var malformation: String?
    /// True when the previous byte was a `\r` that may be the start of `\r\n`.
    private var pendingCR = false

    mutating func step(_ b: UInt8, emit: (Event) -> Void) {
        if pendingCR {
            pendingCR = false
            if b == 0x0A { finishRecord(emit); return }
            emit(.byte(0x0D))  // a lone \r outside quotes is data
        }
        switch state {
        case .fieldStart, .unquoted:
            switch b {
            case 0x2C: emit(.endField); state = .fieldStart
            case 0x0A: finishRecord(emit)
            case 0x0D: pendingCR = true; state = .unquoted
            case 0x22 where state == .fieldStart: state = .quoted
            case 0x22: malformed("quote inside an unquoted field"); emit(.byte(b))
            default: state = .unquoted; emit(.byte(b))
            }
        case .quoted:
            if b == 0x22 { state = .quoteInQuoted } else { emit(.byte(b)) }
        case .quoteInQuoted:
            switch b {
            case 0x22: state = .quoted; emit(.byte(0x22))
            case 0x2C: emit(.endField); state = .fieldStart
            case 0x0A: finishRecord(emit)
            case 0x0D: pendingCR = true; state = .unquoted
            default: malformed("text after a closing quote"); state = .unquoted; emit(.byte(b))
            }
        }
    }

    /// Moves over `bytes[start...]` to just after the next `\n` that ends a record (the one
    /// `step` would report as `.endRecord`) and returns that index; nil when the buffer ends
    /// first, with the state kept for the next buffer. For the split planner, which needs record
    /// ends only: no events, no malformation tracking, and the stretches that cannot end a
    /// record are skipped with `memchr` instead of being stepped through byte by byte.
    ///
    /// Why skipping is exact: outside quotes, only a `"` at a field start (record start or just
    /// after `,`) changes what a later `\n` means, so with no `"` before the next `\n` that
    /// `\n` ends the record; inside quotes, only the next `"` matters.
    mutating func seekRecordEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let count = bytes.count
        var i = start
        while i < count {
            if pendingCR || state == .quoteInQuoted {
                var ended = false
                step(base[i]) { if $0 == .endRecord { ended = true } }
                i += 1
                if ended { return i }
                continue
            }
            if state == .quoted {
                guard let quote = Self.find(0x22, base, from: i, to: count) else { return nil }
                state = .quoteInQuoted
                i = quote + 1
                continue
            }
            // .fieldStart or .unquoted
            let newline = Self.find(0x0A, base, from: i, to: count)
            guard let quote = Self.find(0x22, base, from: i, to: newline ?? count) else {
                if let newline {
                    state = .fieldStart
                    return newline + 1
                }
                // The buffer ends outside quotes; the last byte decides the state.
                switch base[count - 1] {
                case 0x2C: state = .fieldStart
                case 0x0D: state = .unquoted; pendingCR = true
                default: state = .unquoted
                }
                return nil
            }
            // A `"` before the next newline: it opens a quoted field only at a field start.
            // (After a `\r`, `step` would emit the `\r` as data and see the quote in an
            // unquoted field: the same as plain `.unquoted` here.)
            let atFieldStart = quote == i ? state == .fieldStart : base[quote - 1] == 0x2C
            state = atFieldStart ? .quoted : .unquoted
            i = quote + 1
        }
        return nil
    }

    private static func find(_ byte: UInt8, _ base: UnsafePointer<UInt8>, from: Int, to: Int) -> Int? {
        guard from < to, let hit = memchr(base + from, Int32(byte), to - from) else { return nil }
        return UnsafeRawPointer(hit) - UnsafeRawPointer(base)
    }

    /// At end of input: whether a record is open, and why it is malformed if so.
    mutating func finish(emit: (Event) -> Void) {
        if pendingCR { pendingCR = false; emit(.byte(0x0D)) }
        if state == .quoted { malformed("unterminated quoted field") }
        emit(.endRecord)
        state = .fieldStart
    }

    mutating func clearMalformation() { malformation = nil }

    private mutating func finishRecord(_ emit: (Event) -> Void) {
        emit(.endRecord)
        state = .fieldStart
    }

    private mutating func malformed(_ reason: String) {
        if malformation == nil { malformation = reason }
    }
}
