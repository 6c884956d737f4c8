import Foundation

/// A test host: a Linux network namespace with its own interfaces, made with
/// iproute2 (the tests run as root). Tests use them to run Matinee as users
/// do, with libtorrent's default listen interfaces, on a machine with several
/// interfaces, while no packet can leave this machine: a namespace has only
/// the links a test gives it (veth pairs to other namespaces, dummies).
public final class NetNamespace: Sendable {
    public let name: String
    static let ip =
        ["/usr/sbin/ip", "/usr/bin/ip", "/sbin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "ip"

    /// A new namespace with its loopback up.
    public init(_ label: String) throws {
        name = "mt\(label)\(UInt32.random(in: 0..<0xFFFFFF))"
        try Self.ip(["netns", "add", name])
        try run(["link", "set", "lo", "up"])
    }

    /// `ip -n NAME ARGS`.
    public func run(_ args: [String]) throws {
        try Self.ip(["-n", name] + args)
    }

    /// The executable and arguments that run `path ARGS` inside the namespace.
    public func wrap(_ path: String, _ args: [String]) -> (String, [String]) {
        (Self.ip, ["netns", "exec", name, path] + args)
    }

    /// Starts `path ARGS` inside the namespace.
    public func start(_ path: String, _ args: [String], environment: [String: String] = [:], name: String? = nil) throws -> TestProcess {
        let (exe, full) = wrap(path, args)
        return try TestProcess(exe, full, environment: environment, name: name ?? (path as NSString).lastPathComponent)
    }

    /// GETs `url` from inside the namespace (curl): the body; a status
    /// other than 2xx or a failed transfer throws.
    public func get(_ url: String, timeout: Int = 60) async throws -> [UInt8] {
        let (status, body) = try await request(url, timeout: timeout)
        guard (200..<300).contains(status) else { throw TestFailure("GET \(url) in \(name): status \(status)") }
        return body
    }

    /// An HTTP request from inside the namespace (curl): status and body.
    public func request(
        _ url: String, method: String = "GET", headers: [String: String] = [:], body: String? = nil, timeout: Int = 60
    ) async throws -> (status: Int, body: [UInt8]) {
        let dir = TempDir()
        let out = dir.path + "/body"
        let args =
            ["-sS", "-X", method, "--max-time", String(timeout), "-o", out, "-w", "%{http_code}\\n"]
            + headers.flatMap { ["-H", "\($0.key): \($0.value)"] } + (body.map { ["--data-binary", $0] } ?? []) + [url]
        let p = try start("/usr/bin/curl", args, name: "curl")
        let exit = try await p.waitForExit(timeout: .seconds(timeout + 10))
        guard exit == 0, let status = Int(p.lines.joined()) else {
            throw TestFailure("curl \(url) in \(name) failed (\(exit)): \(p.stderr)")
        }
        let body = withExtendedLifetime(dir) { FileManager.default.contents(atPath: out).map { Array($0) } ?? [] }
        return (status, body)
    }

    /// "The internet" and a machine behind it, as a user's is: two
    /// namespaces joined by a veth pair (10.N.r.0/24 and fdM:r::/64, M the
    /// last two digits of N, r random), the host's IPv4 and IPv6 default routes through the
    /// internet side. Returns both, and the internet side's IPv4 address.
    public static func hostBehindInternet(
        _ netName: String, _ hostName: String, subnet n: Int
    ) throws -> (
        net: NetNamespace, host: NetNamespace, gateway: String, r: Int
    ) {
        let net = try NetNamespace(netName)
        let host = try NetNamespace(hostName)
        let r = Int.random(in: 1...250)
        let v6 = "fd\(n % 100):\(r)::"
        _ = try link(net, ["10.\(n).\(r).1/24", v6 + "1/64"], host, ["10.\(n).\(r).2/24", v6 + "2/64"])
        try host.run(["route", "add", "default", "via", "10.\(n).\(r).1"])
        try host.run(["-6", "route", "add", "default", "via", v6 + "1"])
        return (net, host, "10.\(n).\(r).1", r)
    }

    /// Joins two namespaces with a veth pair: `a` gets `aAddress` and `b`
    /// gets `bAddress` (CIDR notation, IPv4 or IPv6, several allowed).
    public static func link(_ a: NetNamespace, _ aAddresses: [String], _ b: NetNamespace, _ bAddresses: [String]) throws -> (String, String)
    {
        let tag = String(UInt32.random(in: 0..<0xFFFFFF), radix: 36)
        let (ea, eb) = ("va\(tag)", "vb\(tag)")
        try ip(["link", "add", ea, "netns", a.name, "type", "veth", "peer", "name", eb, "netns", b.name])
        for (ns, dev, addrs) in [(a, ea, aAddresses), (b, eb, bAddresses)] {
            for addr in addrs {
                // nodad: an IPv6 address is usable at once, not after duplicate detection.
                try ns.run(["addr", "add", addr, "dev", dev] + (addr.contains(":") ? ["nodad"] : []))
            }
            try ns.run(["link", "set", dev, "up"])
        }
        return (ea, eb)
    }

    /// Takes every link but loopback down: the host is offline (its own
    /// loopback still works, as a machine's does with no network).
    public func cutOff() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.ip)
        p.arguments = ["-n", name, "-o", "link", "show"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        // "2: vbxyz@if3: <BROADCAST,...>": the name before "@" or ":".
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2)
            guard fields.count >= 2 else { continue }
            let dev = fields[1].trimmingCharacters(in: .whitespaces).split(separator: "@").first.map(String.init) ?? ""
            if dev.isEmpty || dev == "lo" { continue }
            try run(["link", "set", dev, "down"])
        }
    }

    /// Removes the namespace (and the links in it). Kill its processes first.
    public func destroy() {
        try? Self.ip(["netns", "del", name])
    }

    deinit { destroy() }

    private static func ip(_ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ip)
        p.arguments = args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let msg = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw TestFailure("ip \(args.joined(separator: " ")): \(msg)")
        }
    }
}
