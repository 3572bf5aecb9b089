/// Python 3's `\w` for `str` patterns, per Unicode scalar: `c.isalnum() or c == "_"`, where
/// `isalnum` = `isalpha` (general category Lu, Ll, Lt, Lm, Lo) or `isnumeric` (any
/// Numeric_Type: Decimal, Digit or Numeric; this includes `isdecimal` and `isdigit`).
/// Combining marks (Mn, Mc) are not `\w`, so a decomposed "é" (e + U+0301) splits a token,
/// exactly as in Python. Connector punctuation other than `_` (e.g. U+203F) is not `\w` either.
///
/// Python and Swift may ship different Unicode versions (Python 3.11: 14.0); characters added
/// after the older of the two may classify differently.
public enum PythonWord {
    public static func isWord(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return WordTokenizer.beamASCII[Int(s.value)] && s.value != 0x27 }
        let p = s.properties
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return true
        default:
            return p.numericType != nil
        }
    }
}
