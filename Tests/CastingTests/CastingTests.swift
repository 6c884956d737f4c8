import Foundation
import Testing

@testable import Casting

@Suite("UPnP AV: SSDP answers, descriptions, SOAP and DIDL-Lite")
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
}
