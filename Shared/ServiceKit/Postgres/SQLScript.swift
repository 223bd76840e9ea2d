/// Splits a SQL script into single statements.
///
/// PostgresNIO speaks the extended query protocol, which accepts one statement per query, so a
/// migration file is split before it is run. The splitter is a small state machine that knows
/// about single-quoted strings (with `''` escapes, and backslash escapes in `E'…'` strings),
/// double-quoted identifiers, dollar-quoted
/// bodies (`$$ … $$`, `$fn$ … $fn$`), `--` line comments and nested `/* … */` block comments,
/// so semicolons inside any of those do not end a statement.
package enum SQLScript {
    private enum State {
        case code
        case singleQuoted(backslashEscapes: Bool)
        case doubleQuoted
        case dollarQuoted(tag: [Character])
        case lineComment
        case blockComment(depth: Int)
    }

    /// The statements of `script`, trimmed, without their terminating `;`, comment-only pieces dropped.
    package static func statements(in script: String) -> [String] {
        let chars = Array(script)
        var statements: [String] = []
        var current: [Character] = []
        var hasCode = false
        var state = State.code
        var i = 0

        func flush() {
            let text = String(current).trimmingWhitespace()
            if hasCode, !text.isEmpty { statements.append(text) }
            current.removeAll(keepingCapacity: true)
            hasCode = false
        }

        while i < chars.count {
            let c = chars[i]
            let next: Character? = i + 1 < chars.count ? chars[i + 1] : nil
            switch state {
            case .code:
                if c == ";" {
                    flush(); i += 1; continue
                } else if c == "-", next == "-" {
                    state = .lineComment; current.append(contentsOf: "--"); i += 2; continue
                } else if c == "/", next == "*" {
                    state = .blockComment(depth: 1); current.append(contentsOf: "/*"); i += 2; continue
                } else if c == "'" {
                    state = .singleQuoted(backslashEscapes: startsEscapeString(current)); hasCode = true
                } else if c == "\"" {
                    state = .doubleQuoted; hasCode = true
                } else if c == "$", let tag = dollarTag(in: chars, at: i) {
                    state = .dollarQuoted(tag: tag); hasCode = true
                    current.append(contentsOf: tag); i += tag.count; continue
                } else if !c.isWhitespace {
                    hasCode = true
                }
            case .singleQuoted(let backslashEscapes):
                if backslashEscapes, c == "\\", let next {
                    current.append(c); current.append(next); i += 2; continue
                }
                if c == "'" {
                    if next == "'" { current.append(contentsOf: "''"); i += 2; continue }
                    state = .code
                }
            case .doubleQuoted:
                if c == "\"" {
                    if next == "\"" { current.append(contentsOf: "\"\""); i += 2; continue }
                    state = .code
                }
            case .dollarQuoted(let tag):
                if c == "$", chars[i...].starts(with: tag) {
                    state = .code; current.append(contentsOf: tag); i += tag.count; continue
                }
            case .lineComment:
                if c == "\n" { state = .code }
            case .blockComment(let depth):
                if c == "*", next == "/" {
                    state = depth == 1 ? .code : .blockComment(depth: depth - 1)
                    current.append(contentsOf: "*/"); i += 2; continue
                } else if c == "/", next == "*" {
                    state = .blockComment(depth: depth + 1)
                    current.append(contentsOf: "/*"); i += 2; continue
                }
            }
            current.append(c)
            i += 1
        }
        flush()
        return statements
    }

    /// Whether the quote about to open follows a lone `E`/`e` (an escape string, `E'…'`).
    private static func startsEscapeString(_ preceding: [Character]) -> Bool {
        guard let last = preceding.last, last == "E" || last == "e" else { return false }
        guard preceding.count >= 2 else { return true }
        let before = preceding[preceding.count - 2]
        return !(before.isLetter || before.isNumber || before == "_")
    }

    /// The dollar-quote opener at `index` (`$$` or `$tag$`), or nil when `$` starts something else
    /// (a positional parameter such as `$1`).
    private static func dollarTag(in chars: [Character], at index: Int) -> [Character]? {
        var j = index + 1
        while j < chars.count {
            let c = chars[j]
            if c == "$" { return Array(chars[index...j]) }
            let isTagChar = c == "_" || c.isLetter || (c.isNumber && j > index + 1)
            if !isTagChar { return nil }
            j += 1
        }
        return nil
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }
}
