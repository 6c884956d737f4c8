public import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(FoundationXML)
    import FoundationXML
#endif

/// SOAP actions of UPnP AV's AVTransport and RenderingControl services:
/// the envelopes (pure) and a client that posts them.
public enum SOAP {
    public static let avTransport = "urn:schemas-upnp-org:service:AVTransport:1"
    public static let renderingControl = "urn:schemas-upnp-org:service:RenderingControl:1"
    public static let connectionManager = "urn:schemas-upnp-org:service:ConnectionManager:1"

    /// The request body for `action` of `service` with `arguments` in order
    /// (InstanceID 0 first, as every AVTransport and RenderingControl action
    /// takes it; ConnectionManager's GetProtocolInfo takes none).
    public static func envelope(_ action: String, service: String, arguments: [(String, String)]) -> String {
        let instance = service == connectionManager ? [] : [("InstanceID", "0")]
        let args = (instance + arguments).map { "<\($0.0)>\(XML.escape($0.1))</\($0.0)>" }.joined()
        return """
            <?xml version="1.0" encoding="utf-8"?>\
            <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">\
            <s:Body><u:\(action) xmlns:u="\(service)">\(args)</u:\(action)></s:Body></s:Envelope>
            """
    }

    /// The output arguments of a response, by name (the body's leaf elements);
    /// a SOAP fault's `errorCode` and `errorDescription` come the same way.
    public static func values(of response: [UInt8]) -> [String: String] {
        guard response.count <= 256 << 10 else { return [:] }
        let reader = LeafReader()
        let parser = XMLParser(data: Data(response))
        parser.shouldResolveExternalEntities = false
        parser.delegate = reader
        _ = parser.parse()
        return reader.values
    }

    /// The MIME types of a GetProtocolInfo `Sink` ("http-get:*:video/mp4:*,…"),
    /// lowercased; "*" when the renderer takes anything.
    public static func mimeTypes(ofSink sink: String) -> Set<String> {
        Set(
            sink.split(separator: ",").prefix(1024).compactMap { entry in
                let fields = entry.split(separator: ":", omittingEmptySubsequences: false)
                guard fields.count >= 3, fields[0].trimmingCharacters(in: .whitespaces).lowercased() == "http-get" else { return nil }
                return fields[2].trimmingCharacters(in: .whitespaces).lowercased()
            })
    }

    /// "H:MM:SS[.F]" (UPnP's time) in seconds; nil for NOT_IMPLEMENTED or garbage.
    public static func seconds(_ time: String) -> Double? {
        let parts = time.split(separator: ":")
        guard parts.count == 3, let h = Double(parts[0]), let m = Double(parts[1]), let s = Double(parts[2]), h >= 0, m >= 0, s >= 0
        else { return nil }
        return h * 3600 + m * 60 + s
    }

    /// Seconds as UPnP's "HH:MM:SS".
    public static func time(_ seconds: Double) -> String {
        let t = max(0, Int(seconds.rounded(.down)))
        return String(format: "%02d:%02d:%02d", t / 3600, t / 60 % 60, t % 60)
    }
}

public enum XML {
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // XML 1.0 has no place for most control characters.
                if c.value < 0x20 && c != "\t" && c != "\n" && c != "\r" { continue }
                out.unicodeScalars.append(c)
            }
        }
        return out
    }
}

/// DIDL-Lite metadata for SetAVTransportURI: what many TVs need before
/// they play (title, class, and a `res` whose protocolInfo names the type).
public enum DIDL {
    /// `subtitles`: an SRT URL some renderers show, named the two ways
    /// renderers look for it (Samsung's `sec:CaptionInfoEx`, and a second
    /// `res` of type text/srt); renderers that know neither ignore them.
    public static func item(
        title: String, url: String, mimeType: String, duration: Double?, subtitles: String? = nil, seekable: Bool = true
    ) -> String {
        // DLNA.ORG_OP=01: byte seeks (Range requests) supported (00 for a
        // converted stream, CI=1); DLNA.ORG_FLAGS: streaming transfer mode,
        // background transfer, DLNA 1.5.
        let op = seekable ? "DLNA.ORG_OP=01;DLNA.ORG_CI=0" : "DLNA.ORG_OP=00;DLNA.ORG_CI=1"
        let protocolInfo = "http-get:*:\(mimeType):\(op);DLNA.ORG_FLAGS=01700000000000000000000000000000"
        let durationAttribute = duration.map { " duration=\"\(SOAP.time($0)).000\"" } ?? ""
        let caption =
            subtitles.map {
                "<res protocolInfo=\"http-get:*:text/srt:*\">\(XML.escape($0))</res><sec:CaptionInfoEx sec:type=\"srt\">\(XML.escape($0))</sec:CaptionInfoEx>"
            } ?? ""
        return """
            <DIDL-Lite xmlns="urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/" xmlns:dc="http://purl.org/dc/elements/1.1/" \
            xmlns:upnp="urn:schemas-upnp-org:metadata-1-0/upnp/" xmlns:sec="http://www.sec.co.kr/">\
            <item id="0" parentID="-1" restricted="1"><dc:title>\(XML.escape(title))</dc:title>\
            <upnp:class>object.item.videoItem.movie</upnp:class>\
            <res protocolInfo="\(XML.escape(protocolInfo))"\(durationAttribute)>\(XML.escape(url))</res>\(caption)</item></DIDL-Lite>
            """
    }
}

/// What a renderer is doing, from GetTransportInfo and GetPositionInfo.
public struct RendererState: Sendable, Equatable, Codable {
    /// PLAYING, PAUSED_PLAYBACK, STOPPED, TRANSITIONING, NO_MEDIA_PRESENT.
    public var transport: String
    public var position: Double?
    public var duration: Double?
    public var uri: String?
}

/// What a cast plays: the URL the device fetches and what to show of it.
public struct CastMedia: Sendable {
    public var url: String
    public var title: String
    public var mimeType: String
    public var duration: Double?
    /// A WebVTT URL (a Chromecast's text track).
    public var subtitles: String?
    /// The same subtitles as SubRip (the hint some DLNA renderers take).
    public var subtitlesSRT: String?
    public var subtitleLanguage: String?
    /// Where to start, in seconds.
    public var start: Double = 0
    /// Whether the URL takes byte ranges (a converted stream does not: a
    /// seek is a new URL).
    public var seekable = true

    public init(
        url: String, title: String, mimeType: String, duration: Double? = nil, subtitles: String? = nil, subtitlesSRT: String? = nil,
        subtitleLanguage: String? = nil, start: Double = 0, seekable: Bool = true
    ) {
        self.start = start
        self.seekable = seekable
        self.url = url
        self.title = title
        self.mimeType = mimeType
        self.duration = duration
        self.subtitles = subtitles
        self.subtitlesSRT = subtitlesSRT
        self.subtitleLanguage = subtitleLanguage
    }
}

/// Whether a cast plays the file as it is or converted (`/transcode`).
public enum CastFormat {
    /// `playable`: the types the device lists (nil: it does not say);
    /// `browserPlays`: whether the browser's plan for the file is direct
    /// (nil: the file could not be probed).
    public static func mustConvert(mimeType: String, playable: Set<String>?, browserPlays: Bool?) -> Bool {
        if let playable {
            let names = aliases(of: mimeType.lowercased())
            return !(playable.contains("*") || !playable.isDisjoint(with: names))
        }
        return browserPlays == false
    }

    /// The names renderers give one container: GStreamer's (gmediarender)
    /// say video/quicktime for MP4, TVs say video/mp4, video/x-mp4 or
    /// video/mpeg4, and so on.
    static func aliases(of type: String) -> Set<String> {
        let families: [Set<String>] = [
            ["video/mp4", "video/quicktime", "video/x-mp4", "video/mpeg4", "video/x-m4v", "video/m4v"],
            ["video/x-matroska", "video/x-mkv", "video/mkv", "video/matroska"],
            ["video/x-msvideo", "video/avi", "video/msvideo", "video/x-avi"],
            ["video/mp2t", "video/mpegts", "video/vnd.dlna.mpeg-tts", "video/x-mpegts"],
        ]
        return families.first { $0.contains(type) } ?? [type]
    }
}

/// What every kind of cast device does: the player's remote.
public protocol CastDevice: Sendable {
    var renderer: Renderer { get }
    /// Loads `media` and starts playing it.
    func load(_ media: CastMedia) async throws
    func play() async throws
    func pause() async throws
    func seek(to seconds: Double) async throws
    /// 0–100.
    func setVolume(_ volume: Int) async throws
    /// Stops playback on the device.
    func stop() async throws
    func state() async throws -> RendererState
    /// Lets go of the device (a Chromecast's connection); nothing for DLNA.
    func close() async
    /// The MIME types the device says it plays ("*" for any); nil when it
    /// does not say (then the file's own plan decides).
    func playableTypes() async -> Set<String>?
}

/// Drives one renderer over HTTP (SOAP). Each call is one POST with a
/// 10 s limit; an answer that is a SOAP fault throws with the renderer's words.
public struct RendererClient: CastDevice {
    public let renderer: Renderer
    private let session: URLSession

    public init(_ renderer: Renderer) {
        self.renderer = renderer
        let c = URLSessionConfiguration.ephemeral
        c.timeoutIntervalForRequest = 10
        // The LAN, never a proxy from the environment.
        c.connectionProxyDictionary = [:]
        session = URLSession(configuration: c)
    }

    /// Fetches and reads the description at `location`.
    public static func describe(_ location: URL) async throws -> Renderer {
        var r = URLRequest(url: location, timeoutInterval: 5)
        r.httpMethod = "GET"
        let c = URLSessionConfiguration.ephemeral
        c.connectionProxyDictionary = [:]
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession(configuration: c).data(for: r)
        } catch {
            throw CastError("cannot read the renderer's description at \(location): \(error.localizedDescription)")
        }
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw CastError("the renderer's description at \(location) could not be read")
        }
        return try Renderer.parse(description: Array(data), location: location)
    }

    @discardableResult
    func call(_ action: String, service: String = SOAP.avTransport, _ arguments: [(String, String)] = []) async throws -> [String: String] {
        let control =
            switch service {
            case SOAP.avTransport: renderer.avTransport
            case SOAP.renderingControl: renderer.renderingControl
            default: renderer.connectionManager
            }
        guard let url = control else {
            throw CastError(service == SOAP.renderingControl ? "\(renderer.name) has no volume control" : "\(renderer.name) cannot do \(action)")
        }
        var r = URLRequest(url: url)
        r.httpMethod = "POST"
        r.setValue("text/xml; charset=\"utf-8\"", forHTTPHeaderField: "Content-Type")
        r.setValue("\"\(service)#\(action)\"", forHTTPHeaderField: "SOAPACTION")
        r.httpBody = Data(SOAP.envelope(action, service: service, arguments: arguments).utf8)
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await session.data(for: r)
        } catch {
            throw CastError("\(renderer.name) does not answer (\(error.localizedDescription))")
        }
        let values = SOAP.values(of: Array(data.prefix(256 << 10)))
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            let why = values["errorDescription"].map { ": \(Renderer.clean($0, fallback: ""))" } ?? ""
            throw CastError("\(renderer.name) refused \(action)\(why)")
        }
        return values
    }

    public func load(url: String, metadata: String) async throws {
        try await call("SetAVTransportURI", [("CurrentURI", url), ("CurrentURIMetaData", metadata)])
    }

    public func load(_ media: CastMedia) async throws {
        let metadata = DIDL.item(
            title: media.title, url: media.url, mimeType: media.mimeType, duration: media.duration, subtitles: media.subtitlesSRT,
            seekable: media.seekable)
        // A renderer busy with something else takes a new URI only once
        // stopped (gmediarender, many TVs); one with nothing to stop may
        // refuse this, which is fine.
        try? await stop()
        try await load(url: media.url, metadata: metadata)
        try await play()
        guard media.start >= 1 else { return }
        // Renderers take a seek once they play; some need a moment to get there.
        for _ in 0..<20 {
            if let st = try? await state(), st.transport == "PLAYING" { break }
            try? await Task.sleep(for: .milliseconds(250))
        }
        try? await seek(to: media.start)
    }

    public func close() async {}

    public func playableTypes() async -> Set<String>? {
        guard let values = try? await call("GetProtocolInfo", service: SOAP.connectionManager), let sink = values["Sink"] else { return nil }
        let types = SOAP.mimeTypes(ofSink: sink)
        return types.isEmpty ? nil : types
    }

    public func play() async throws { try await call("Play", [("Speed", "1")]) }
    public func pause() async throws { try await call("Pause") }
    public func stop() async throws { try await call("Stop") }
    public func seek(to seconds: Double) async throws {
        try await call("Seek", [("Unit", "REL_TIME"), ("Target", SOAP.time(seconds))])
    }

    /// 0–100.
    public func setVolume(_ volume: Int) async throws {
        try await call(
            "SetVolume", service: SOAP.renderingControl, [("Channel", "Master"), ("DesiredVolume", String(min(max(volume, 0), 100)))])
    }

    public func state() async throws -> RendererState {
        let transport = try await call("GetTransportInfo")
        let position = try await call("GetPositionInfo")
        return RendererState(
            transport: transport["CurrentTransportState"] ?? "UNKNOWN", position: position["RelTime"].flatMap(SOAP.seconds),
            duration: position["TrackDuration"].flatMap(SOAP.seconds).flatMap { $0 > 0 ? $0 : nil }, uri: position["TrackURI"])
    }
}

/// The leaf elements of a SOAP body, by local name.
private final class LeafReader: NSObject, XMLParserDelegate {
    var values: [String: String] = [:]
    var text = ""
    var depth = 0

    func parser(_ p: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
        text = ""
        depth += 1
        if depth > 32 { p.abortParsing() }
    }

    func parser(_ p: XMLParser, foundCharacters string: String) {
        if text.utf8.count < 16 << 10 { text += string }
    }

    func parser(_ p: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        let local = name.split(separator: ":").last.map(String.init) ?? name
        if values[local] == nil && values.count < 64 { values[local] = text.trimmingCharacters(in: .whitespacesAndNewlines) }
        text = ""
        depth -= 1
    }
}
