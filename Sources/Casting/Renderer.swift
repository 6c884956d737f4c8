public import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A device Matinee casts to: a UPnP AV MediaRenderer (a TV, a speaker
/// with a screen, gmediarender), with the control URLs of the services
/// Matinee drives, or a Chromecast (Cast V2).
public struct Renderer: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable {
        case dlna, chromecast
    }

    public var kind: Kind
    /// The device's unique name: a UPnP UDN ("uuid:…"), or "cast:" and a
    /// Chromecast's id; stable across restarts.
    public var udn: String
    public var name: String
    public var model: String
    /// DLNA: the description's URL (where SSDP pointed). Chromecast:
    /// cast://HOST:PORT, its Cast V2 endpoint.
    public var location: URL
    /// DLNA only.
    public var avTransport: URL?
    public var renderingControl: URL?
    /// DLNA only: where the renderer says which types it plays.
    public var connectionManager: URL?

    public init(
        kind: Kind = .dlna, udn: String, name: String, model: String, location: URL, avTransport: URL?, renderingControl: URL?,
        connectionManager: URL? = nil
    ) {
        self.kind = kind
        self.udn = udn
        self.name = name
        self.model = model
        self.location = location
        self.avTransport = avTransport
        self.renderingControl = renderingControl
        self.connectionManager = connectionManager
    }

    /// The client that drives this device.
    public func device() -> any CastDevice {
        switch kind {
        case .dlna: RendererClient(self)
        case .chromecast: ChromecastClient(self)
        }
    }

    /// The renderer's IPv4 address, as its description was reached.
    public var host: String { location.host ?? "" }

    /// Reads a device description (UPnP Device Architecture §2.3). A
    /// description is hostile input from the LAN: at most 64 KiB, no
    /// external entities, every URL must stay on the host that served it.
    public static func parse(description data: [UInt8], location: URL) throws -> Renderer {
        guard data.count <= 64 << 10 else { throw CastError("the renderer's description is larger than 64 KiB") }
        let reader = DescriptionReader()
        let parser = XMLParser(data: Data(data))
        parser.shouldResolveExternalEntities = false
        parser.delegate = reader
        guard parser.parse() else { throw CastError("the renderer's description is not XML") }
        guard let device = reader.renderer else { throw CastError("the device at \(location.host ?? "?") is not a media renderer") }
        let base = reader.urlBase.flatMap(URL.init(string:)) ?? location
        func resolve(_ path: String) -> URL? {
            guard let u = URL(string: path, relativeTo: base)?.absoluteURL, u.scheme?.lowercased() == "http", u.host == location.host
            else { return nil }
            return u
        }
        guard let control = device.services["urn:schemas-upnp-org:service:AVTransport:1"].flatMap(resolve) else {
            throw CastError("\(device.name.isEmpty ? "the renderer" : device.name) has no AVTransport service Matinee can use")
        }
        return Renderer(
            udn: device.udn, name: Self.clean(device.name, fallback: location.host ?? "renderer"), model: Self.clean(device.model, fallback: ""),
            location: location, avTransport: control,
            renderingControl: device.services["urn:schemas-upnp-org:service:RenderingControl:1"].flatMap(resolve),
            connectionManager: device.services["urn:schemas-upnp-org:service:ConnectionManager:1"].flatMap(resolve))
    }

    /// A name to show: control and format characters out, at most 80 characters.
    static func clean(_ s: String, fallback: String) -> String {
        let kept = String(String.UnicodeScalarView(s.unicodeScalars.filter { !["Cc", "Cf"].contains(category($0)) }))
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return kept.isEmpty ? fallback : String(kept.prefix(80))
    }

    private static func category(_ u: Unicode.Scalar) -> String {
        switch u.properties.generalCategory {
        case .control: "Cc"
        case .format: "Cf"
        default: ""
        }
    }
}

public struct CastError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Collects the first MediaRenderer device of a description (the root
/// device or one embedded in it) and its services' control URLs.
private final class DescriptionReader: NSObject, XMLParserDelegate {
    struct Device {
        var type = "", name = "", model = "", udn = ""
        var services: [String: String] = [:]
    }
    var stack: [String] = []
    var devices: [Device] = []
    var service: (type: String, control: String)?
    var found: [Device] = []
    var text = ""
    var urlBase: String?

    var renderer: Device? { found.first { $0.type.hasPrefix("urn:schemas-upnp-org:device:MediaRenderer:") } }

    func parser(_ p: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
        stack.append(name)
        text = ""
        if name == "device" { devices.append(Device()) }
        if name == "service" { service = ("", "") }
        if stack.count > 64 { p.abortParsing() }
    }

    func parser(_ p: XMLParser, foundCharacters string: String) {
        if text.utf8.count < 4096 { text += string }
    }

    func parser(_ p: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let parent = stack.dropLast().last
        if parent == "device", !devices.isEmpty {
            switch name {
            case "deviceType": devices[devices.count - 1].type = value
            case "friendlyName": devices[devices.count - 1].name = value
            case "modelName": devices[devices.count - 1].model = value
            case "UDN": devices[devices.count - 1].udn = value
            default: break
            }
        }
        if parent == "service" {
            if name == "serviceType" { service?.type = value }
            if name == "controlURL" { service?.control = value }
        }
        if name == "service", let s = service, !devices.isEmpty {
            devices[devices.count - 1].services[s.type] = s.control
            service = nil
        }
        if name == "device", let d = devices.popLast() { found.append(d) }
        if name == "URLBase" { urlBase = value }
        stack.removeLast()
        text = ""
    }
}
