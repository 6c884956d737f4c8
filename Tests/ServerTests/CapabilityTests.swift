import Foundation
import Server
import Testing

@Suite("Stream capabilities")
struct CapabilityTests {
    func query(_ url: String) -> (exp: String?, cap: String?) {
        let items = URLComponents(string: url)?.queryItems ?? []
        return (items.first { $0.name == "exp" }?.value, items.first { $0.name == "cap" }?.value)
    }

    @Test("a signed stream URL grants its own file, converted or not, until it expires; nothing else")
    func grants() {
        let cap = StreamCapability(lifetime: .seconds(600))
        let now = Date()
        let url = cap.sign("/stream/aabbccddeeff00112233445566778899aabbccdd/2", now: now)
        let (exp, mac) = query(url)
        #expect(cap.allows(path: "/stream/aabbccddeeff00112233445566778899aabbccdd/2", exp: exp, cap: mac, now: now))
        // The same file through ffmpeg (a seek adds a start) is the same grant.
        #expect(cap.allows(path: "/transcode/aabbccddeeff00112233445566778899aabbccdd/2", exp: exp, cap: mac, now: now))
        // Another file, another torrent, a later expiry, after expiry, none: refused.
        #expect(!cap.allows(path: "/stream/aabbccddeeff00112233445566778899aabbccdd/3", exp: exp, cap: mac, now: now))
        #expect(!cap.allows(path: "/stream/00bbccddeeff00112233445566778899aabbccdd/2", exp: exp, cap: mac, now: now))
        #expect(!cap.allows(path: "/stream/aabbccddeeff00112233445566778899aabbccdd/2", exp: String(Int(exp!)! + 1), cap: mac, now: now))
        #expect(!cap.allows(path: "/stream/aabbccddeeff00112233445566778899aabbccdd/2", exp: exp, cap: mac, now: now + 601))
        #expect(!cap.allows(path: "/stream/aabbccddeeff00112233445566778899aabbccdd/2", exp: nil, cap: nil, now: now))
        // Another run's key (a restart) does not accept it.
        #expect(!StreamCapability().allows(path: "/stream/aabbccddeeff00112233445566778899aabbccdd/2", exp: exp, cap: mac, now: now))
    }
}
