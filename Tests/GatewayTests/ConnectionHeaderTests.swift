@testable import Gateway
import HTTPTypes
import Testing

@Suite("Connection header options")
struct ConnectionHeaderTests {
    @Test("close is a whole token, in any case, in any Connection line", arguments: [
        (["close"], true), (["Close"], true), (["keep-alive, close"], true), (["keep-alive ,\tCLOSE "], true),
        (["keep-alive", "close"], true), (["keep-alive"], false), (["closed"], false), (["x-close-hint, upgrade"], false),
        ([], false),
    ])
    func asksToClose(lines: [String], expected: Bool) {
        var fields = HTTPFields()
        for line in lines { fields.append(HTTPField(name: .connection, value: line)) }
        #expect(ConnectionHeader.asksToClose(fields) == expected)
    }
}
