#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import Gateway
import Testing

@Suite("HTTP Date header")
struct HTTPDateCacheTests {
    @Test("IMF-fixdate, as RFC 9110's example")
    func format() {
        var seconds: time_t = 784_111_777
        #expect(HTTPDateCache.format(&seconds) == "Sun, 06 Nov 1994 08:49:37 GMT")
        var leap: time_t = 951_782_400
        #expect(HTTPDateCache.format(&leap) == "Tue, 29 Feb 2000 00:00:00 GMT")
    }
}
