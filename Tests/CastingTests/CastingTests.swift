import Foundation
import Testing

@testable import Casting

@Suite("Casting: SSDP answers, descriptions, SOAP, DIDL-Lite, mDNS and Cast V2")
struct CastingTests {
    @Test("an SSDP answer gives the description's URL; other datagrams, other types and odd locations are dropped")
    func ssdpAnswers() throws {
        let answer = """
            HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=100\r\nEXT:\r\nLOCATION: http://10.0.0.2:49494/description.xml\r\n\
            ST: urn:schemas-upnp-org:device:MediaRenderer:1\r\nUSN: uuid:abc::urn:schemas-upnp-org:device:MediaRenderer:1\r\n\r\n
            """
        let a = try #require(SSDP.parseAnswer(answer))
        #expect(a.location.absoluteString == "http://10.0.0.2:49494/description.xml" && a.usn.hasPrefix("uuid:abc"))
        #expect(SSDP.parseAnswer(SSDP.searchRequest()) == nil, "our own M-SEARCH, looped back")
        #expect(SSDP.parseAnswer(answer.replacingOccurrences(of: "MediaRenderer", with: "MediaServer")) == nil)
        #expect(SSDP.parseAnswer(answer.replacingOccurrences(of: "http://10.0.0.2", with: "file://")) == nil)
        #expect(SSDP.parseAnswer(answer.replacingOccurrences(of: "200 OK", with: "404 Not Found")) == nil)
        #expect(SSDP.searchRequest().hasPrefix("M-SEARCH * HTTP/1.1\r\n") && SSDP.searchRequest().hasSuffix("\r\n\r\n"))
    }

    static let description = """
        <?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device>
        <deviceType>urn:schemas-upnp-org:device:MediaRenderer:1</deviceType>
        <friendlyName>Living Room TV\u{202E}</friendlyName><modelName>gmediarender</modelName>
        <UDN>uuid:1234</UDN><serviceList>
        <service><serviceType>urn:schemas-upnp-org:service:AVTransport:1</serviceType><controlURL>/upnp/control/rendertransport1</controlURL></service>
        <service><serviceType>urn:schemas-upnp-org:service:RenderingControl:1</serviceType><controlURL>/upnp/control/rendercontrol1</controlURL></service>
        </serviceList></device></root>
        """

    @Test("a description gives the name (format characters out) and control URLs on the host that served it")
    func descriptions() throws {
        let location = URL(string: "http://10.0.0.2:49494/description.xml")!
        let r = try Renderer.parse(description: Array(Self.description.utf8), location: location)
        #expect(r.name == "Living Room TV" && r.model == "gmediarender" && r.udn == "uuid:1234")
        #expect(r.avTransport?.absoluteString == "http://10.0.0.2:49494/upnp/control/rendertransport1")
        #expect(r.renderingControl?.absoluteString == "http://10.0.0.2:49494/upnp/control/rendercontrol1")
        // A control URL on another host would make Matinee post to a machine of the device's choosing.
        let elsewhere = Self.description.replacingOccurrences(of: "/upnp/control/rendertransport1", with: "http://192.0.2.9/x")
        #expect(throws: CastError.self) { try Renderer.parse(description: Array(elsewhere.utf8), location: location) }
        let server = Self.description.replacingOccurrences(of: "MediaRenderer", with: "MediaServer")
        #expect(throws: CastError.self) { try Renderer.parse(description: Array(server.utf8), location: location) }
        #expect(throws: CastError.self) { try Renderer.parse(description: Array("not xml <".utf8), location: location) }
        let entity = """
            <?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><root><device>\
            <deviceType>urn:schemas-upnp-org:device:MediaRenderer:1</deviceType><friendlyName>&x;</friendlyName><serviceList>\
            <service><serviceType>urn:schemas-upnp-org:service:AVTransport:1</serviceType><controlURL>/c</controlURL></service>\
            </serviceList></device></root>
            """
        if let r = try? Renderer.parse(description: Array(entity.utf8), location: location) {
            #expect(!r.name.contains("root:"), "an external entity was read: \(r.name)")
        }
    }

    @Test("SOAP envelopes escape their arguments; responses and faults read back; times both ways")
    func soap() {
        let body = SOAP.envelope("SetAVTransportURI", service: SOAP.avTransport, arguments: [("CurrentURI", "http://h/s?a=1&b=<2>")])
        #expect(body.contains("<InstanceID>0</InstanceID><CurrentURI>http://h/s?a=1&amp;b=&lt;2&gt;</CurrentURI>"))
        let response = """
            <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:GetPositionInfoResponse xmlns:u="x">\
            <Track>1</Track><TrackDuration>0:01:30</TrackDuration><RelTime>0:00:05</RelTime></u:GetPositionInfoResponse></s:Body></s:Envelope>
            """
        let v = SOAP.values(of: Array(response.utf8))
        #expect(v["RelTime"] == "0:00:05" && v["TrackDuration"] == "0:01:30")
        let fault = "<s:Envelope xmlns:s=\"s\"><s:Body><s:Fault><detail><UPnPError><errorCode>701</errorCode><errorDescription>Transition not available</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>"
        #expect(SOAP.values(of: Array(fault.utf8))["errorDescription"] == "Transition not available")
        #expect(SOAP.seconds("1:02:03") == 3723 && SOAP.seconds("00:00:20.500") == 20.5 && SOAP.seconds("NOT_IMPLEMENTED") == nil)
        #expect(SOAP.time(3723.9) == "01:02:03" && SOAP.time(-5) == "00:00:00")
    }

    @Test("DIDL-Lite names the title, the type and byte seeks, escaped")
    func didl() {
        let d = DIDL.item(title: "Tom & Jerry <3", url: "http://10.0.0.1:8/stream/a?exp=1&cap=2", mimeType: "video/mp4", duration: 90)
        #expect(d.contains("<dc:title>Tom &amp; Jerry &lt;3</dc:title>"))
        #expect(d.contains("protocolInfo=\"http-get:*:video/mp4:DLNA.ORG_OP=01;") && d.contains("duration=\"00:01:30.000\""))
        #expect(d.contains(">http://10.0.0.1:8/stream/a?exp=1&amp;cap=2</res>"))
    }

    @Test("a renderer is picked by its name, its start or its UDN, and not when two fit")
    func picking() throws {
        let location = URL(string: "http://10.0.0.2:1/d.xml")!
        let tv = try Renderer.parse(description: Array(Self.description.utf8), location: location)
        var other = tv
        other.name = "Living Room Speaker"
        other.udn = "uuid:5678"
        #expect(RendererDiscovery.pick("living room tv", from: [tv, other])?.udn == "uuid:1234")
        #expect(RendererDiscovery.pick("Living Room", from: [tv, other]) == nil)
        #expect(RendererDiscovery.pick("living room s", from: [tv, other])?.udn == "uuid:5678")
        #expect(RendererDiscovery.pick("5678", from: [tv, other])?.udn == "uuid:5678")
    }

    // MARK: Chromecast

    /// A DNS name, uncompressed.
    static func name(_ n: String) -> [UInt8] { n.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0] }

    static func record(_ owner: [UInt8], type: UInt16, _ data: [UInt8]) -> [UInt8] {
        owner + [UInt8(type >> 8), UInt8(type & 0xFF), 0x80, 1, 0, 0, 0, 120, UInt8(data.count >> 8), UInt8(data.count & 0xFF)] + data
    }

    /// A Chromecast's answer as python3-zeroconf sends it to a legacy query:
    /// the question echoed, the PTR, then SRV, TXT and A (names compressed).
    static func chromecastAnswer(id: UInt16 = 0x1234, aRecord: [UInt8] = [10, 0, 0, 9]) -> [UInt8] {
        var p: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 3]
        let service = 12  // where the question's name starts: later names point at it
        p += name("_googlecast._tcp.local") + [0, 12, 0, 1]
        let instance = p.count + 12  // the PTR's data, after its owner pointer and fixed fields
        p += record([0xC0, UInt8(service)], type: 12, [8] + Array("Kitchen1".utf8) + [0xC0, UInt8(service)])
        p += record([0xC0, UInt8(instance)], type: 33, [0, 0, 0, 0, 0x1F, 0x49] + name("abc.local"))
        let txt = ["id=abc123", "fn=Kitchen \u{202E}Cast", "md=Chromecast Ultra", "ve=05"].flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
        p += record([0xC0, UInt8(instance)], type: 16, txt)
        p += record(name("abc.local"), type: 1, aRecord)
        return p
    }

    @Test("mDNS: the query is a PTR question for _googlecast._tcp.local; an answer gives the device's name, model, id and port, at the address it came from")
    func mdnsAnswer() throws {
        let q = MDNS.query(MDNS.googlecast, id: 0xBEEF)
        #expect(q.prefix(12) == [0xBE, 0xEF, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])
        #expect(Array(q.dropFirst(12)) == Self.name("_googlecast._tcp.local") + [0, 12, 0, 1])
        let records = try #require(MDNS.parse(Self.chromecastAnswer()))
        #expect(records.count == 4)
        let casts = MDNS.chromecasts(in: records, from: "10.0.0.7")
        #expect(casts.count == 1)
        let c = try #require(casts.first)
        #expect(c.kind == .chromecast && c.name == "Kitchen Cast" && c.model == "Chromecast Ultra" && c.udn == "cast:abc123")
        // Its A record says 10.0.0.9: the address the answer came from is the one used.
        #expect(c.host == "10.0.0.7" && c.location.port == 8009)
        #expect(MDNS.parse(q) == nil, "a query (our own, looped back) is not an answer")
    }

    @Test("mDNS answers are hostile input: truncated packets, pointer loops, forward pointers and absurd counts are refused, never a crash")
    func mdnsHostile() throws {
        let good = Self.chromecastAnswer()
        for cut in stride(from: 0, to: good.count - 1, by: 7) {
            _ = MDNS.parse(Array(good.prefix(cut)))  // must not crash; most are nil
        }
        #expect(MDNS.parse(Array(good.prefix(good.count - 3))) == nil)
        // A name that points at itself, and one that points forward.
        var loop: [UInt8] = [0, 1, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0]
        loop += [0xC0, 12] + [0, 12, 0, 1, 0, 0, 0, 1, 0, 2, 0xC0, 12]
        #expect(MDNS.parse(loop) == nil)
        var forward: [UInt8] = [0, 1, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0]
        forward += [0xC0, 40] + [0, 12, 0, 1, 0, 0, 0, 1, 0, 0]
        #expect(MDNS.parse(forward) == nil)
        let many: [UInt8] = [0, 1, 0x84, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0]
        #expect(MDNS.parse(many) == nil)
        // Random bytes: no crash.
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var bytes = good
            for _ in 0..<4 { bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            if let r = MDNS.parse(bytes) { _ = MDNS.chromecasts(in: r, from: "10.0.0.7") }
        }
    }

    @Test("Cast V2: a message survives the protobuf frame; LOAD carries the stream and one WebVTT track shown at once; MEDIA_STATUS in UPnP's words")
    func castV2Messages() throws {
        let m = CastV2.Message(source: "sender-matinee", destination: "receiver-0", namespace: CastV2.receiver, payload: #"{"type":"GET_STATUS","requestId":1}"#)
        let bytes = try CastV2.encode(m)
        #expect(CastV2.decode(bytes) == m)
        #expect(CastV2.decode([0xFF, 0x01, 0x02]) == nil)
        #expect(CastV2.decode([UInt8](repeating: 0, count: CastV2.maxFrame + 1)) == nil)

        let media = CastMedia(url: "http://10.0.0.1:5/stream/a?cap=x", title: "Aurora", mimeType: "video/mp4", subtitles: "http://10.0.0.1:5/subtitles/b.vtt", subtitleLanguage: "en")
        let load = CastV2.load(media, sessionId: "s", requestId: 7, start: 12)
        let item = try #require(load["media"] as? [String: Any])
        #expect(load["type"] as? String == "LOAD" && load["currentTime"] as? Double == 12 && load["activeTrackIds"] as? [Int] == [1])
        #expect(item["contentId"] as? String == media.url && item["streamType"] as? String == "BUFFERED")
        let track = try #require((item["tracks"] as? [[String: Any]])?.first)
        #expect(track["trackContentType"] as? String == "text/vtt" && track["language"] as? String == "en" && track["type"] as? String == "TEXT")
        let bare = CastV2.load(CastMedia(url: "u", title: "t", mimeType: "video/webm"), sessionId: "s", requestId: 8)
        #expect(bare["activeTrackIds"] == nil && (bare["media"] as? [String: Any])?["tracks"] == nil)

        let status = try #require(CastV2.object(#"{"type":"MEDIA_STATUS","status":[{"mediaSessionId":3,"playerState":"PAUSED","currentTime":41.5,"media":{"contentId":"u","duration":60}}]}"#))
        let (st, session) = CastV2.state(fromMediaStatus: status)
        #expect(st == RendererState(transport: "PAUSED_PLAYBACK", position: 41.5, duration: 60, uri: "u") && session == 3)
        #expect(CastV2.state(fromMediaStatus: ["status": []]).state.transport == "NO_MEDIA_PRESENT")
        let receiver = try #require(CastV2.object(#"{"status":{"applications":[{"appId":"CC1AD845","sessionId":"S","transportId":"web-1"}]}}"#))
        #expect(CastV2.app(in: receiver)?.transport == "web-1")
        #expect(CastV2.app(in: ["status": ["applications": [["appId": "233637DE"]]]]) == nil)
    }

    @Test("DIDL-Lite: subtitles go as a text/srt res and Samsung's CaptionInfoEx")
    func didlSubtitles() {
        let d = DIDL.item(title: "A", url: "http://h/s", mimeType: "video/mp4", duration: nil, subtitles: "http://h/subtitles/x.srt?exp=1&cap=2")
        #expect(d.contains(#"<res protocolInfo="http-get:*:text/srt:*">http://h/subtitles/x.srt?exp=1&amp;cap=2</res>"#))
        #expect(d.contains(#"<sec:CaptionInfoEx sec:type="srt">http://h/subtitles/x.srt?exp=1&amp;cap=2</sec:CaptionInfoEx>"#))
        #expect(!DIDL.item(title: "A", url: "u", mimeType: "video/mp4", duration: nil).contains("CaptionInfoEx"))
    }

    @Test("conversion: a DLNA renderer gets the file as it is when it lists its type (under any of its names), converted otherwise; a Chromecast when the browser could play it")
    func conversion() {
        let gstreamer = SOAP.mimeTypes(ofSink: "http-get:*:video/quicktime:*,http-get:*:video/x-matroska:*, http-get:*:audio/mp4:*,rtsp:*:video/x-avi:*,garbage")
        #expect(gstreamer == ["video/quicktime", "video/x-matroska", "audio/mp4"])
        #expect(!CastFormat.mustConvert(mimeType: "video/mp4", playable: gstreamer, browserPlays: true))
        #expect(!CastFormat.mustConvert(mimeType: "video/x-matroska", playable: gstreamer, browserPlays: false), "the TV's word over the browser's")
        #expect(CastFormat.mustConvert(mimeType: "video/x-msvideo", playable: gstreamer, browserPlays: true), "rtsp is not http-get")
        #expect(!CastFormat.mustConvert(mimeType: "video/x-msvideo", playable: ["*"], browserPlays: false))
        #expect(CastFormat.mustConvert(mimeType: "video/x-matroska", playable: nil, browserPlays: false))
        #expect(!CastFormat.mustConvert(mimeType: "video/x-matroska", playable: nil, browserPlays: nil), "not probed: as it is")
    }
}
