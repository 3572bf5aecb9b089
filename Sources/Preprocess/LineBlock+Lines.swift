extension LineBlock {
    /// Calls `body` with each line's content (without `\n` or `\r\n`) and its file offset.
    /// A lone `\r` is not a terminator, as in Beam's text source.
    public func forEachLine(_ body: (UnsafeBufferPointer<UInt8>, Int64) throws -> Void) rethrows {
        try bytes.withUnsafeBufferPointer { all in
            var start = 0
            let n = all.count
            while start < n {
                var end = start
                while end < n && all[end] != 0x0A { end += 1 }
                let next = end < n ? end + 1 : end
                if end > start && all[end - 1] == 0x0D && end < n { end -= 1 }
                try body(UnsafeBufferPointer(rebasing: all[start..<end]), offset + Int64(start))
                start = next
            }
        }
    }
}
