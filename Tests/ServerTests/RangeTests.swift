import Streaming
import Testing

@testable import Server

@Suite("Range header (RFC 9110)")
struct RangeTests {
    @Test func ranges() {
        let size: Int64 = 1000
        #expect(ByteRangeRequest(header: nil, size: size) == .whole)
        #expect(ByteRangeRequest(header: "bytes=0-99", size: size) == .partial(0..<100))
        #expect(ByteRangeRequest(header: "bytes=500-", size: size) == .partial(500..<1000))
        #expect(ByteRangeRequest(header: "bytes=-100", size: size) == .partial(900..<1000))
        #expect(ByteRangeRequest(header: "bytes=-5000", size: size) == .partial(0..<1000))
        #expect(ByteRangeRequest(header: "bytes=900-5000", size: size) == .partial(900..<1000))
        #expect(ByteRangeRequest(header: "bytes=999-999", size: size) == .partial(999..<1000))
        #expect(ByteRangeRequest(header: "bytes=1000-", size: size) == .unsatisfiable)
        #expect(ByteRangeRequest(header: "bytes=5000-6000", size: size) == .unsatisfiable)
        #expect(ByteRangeRequest(header: "bytes=-0", size: size) == .unsatisfiable)
        // Positions past Int64 saturate: past the end of anything.
        #expect(ByteRangeRequest(header: "bytes=0-99999999999999999999", size: size) == .partial(0..<1000))
        #expect(ByteRangeRequest(header: "bytes=99999999999999999999-", size: size) == .unsatisfiable)
        #expect(ByteRangeRequest(header: "bytes=99999999999999999999-99999999999999999999", size: size) == .unsatisfiable)
        #expect(ByteRangeRequest(header: "bytes=-99999999999999999999", size: size) == .partial(0..<1000))
        #expect(ByteRangeRequest(header: "bytes=9223372036854775807-", size: size) == .unsatisfiable)
        #expect(ByteRangeRequest(header: "bytes=5-9223372036854775808", size: size) == .partial(5..<1000))
        // Ignored (whole body): other units, garbage, several ranges, reversed.
        #expect(ByteRangeRequest(header: "items=0-1", size: size) == .whole)
        #expect(ByteRangeRequest(header: "bytes=abc", size: size) == .whole)
        #expect(ByteRangeRequest(header: "bytes=0-1,5-6", size: size) == .whole)
        #expect(ByteRangeRequest(header: "bytes=9-1", size: size) == .whole)
        #expect(ByteRangeRequest(header: "bytes=+1-2", size: size) == .whole)
    }

    @Test func contentTypes() {
        #expect(MediaType.forFile("a.MP4") == "video/mp4")
        #expect(MediaType.forFile("b.mkv") == "video/x-matroska")
        #expect(MediaType.forFile("c.webm") == "video/webm")
        #expect(MediaType.forFile("d.srt") == "application/x-subrip")
        #expect(MediaType.forFile("e.vtt") == "text/vtt")
        #expect(MediaType.forFile("f.mp3") == "audio/mpeg")
        #expect(MediaType.forFile("noext") == "application/octet-stream")
        #expect(MediaType.forFile(".hidden") == "application/octet-stream")
    }

    @Test func hostAllowlist() {
        let a = HostAllowlist(port: 8080, extraNames: ["Matinee.lan"])
        for ok in ["localhost:8080", "127.0.0.1:8080", "[::1]:8080", "LOCALHOST:8080", "matinee.lan:8080"] {
            #expect(a.allows(ok), "\(ok)")
        }
        for bad in [nil, "", "localhost", "localhost:8081", "evil.com:8080", "127.0.0.1.evil.com:8080", "attacker:8080"] as [String?] {
            #expect(!a.allows(bad), "\(bad ?? "nil")")
        }
    }
}
