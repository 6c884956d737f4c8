public import Crypto
import Foundation
public import TorrentKit

/// The catalog signature (docs/channel-format.md §5): Ed25519 over a
/// domain-separation prefix and the exact bytes of catalog.json.
public enum CatalogSignature {
    public static let prefix = Array("matinee-catalog-v1\n".utf8)

    public static func sign(_ catalog: [UInt8], with key: Curve25519.Signing.PrivateKey) throws -> [UInt8] {
        Array(try key.signature(for: prefix + catalog))
    }

    public static func isValid(_ signature: [UInt8], of catalog: [UInt8], publicKey: [UInt8]) -> Bool {
        guard signature.count == 64, let pk = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return pk.isValidSignature(signature, for: prefix + catalog)
    }
}

/// A channel's BEP 46 pointer (`TorrentPointer`), with catalog errors.
public enum ChannelPointer {
    public static func value(for catalogTorrent: TorrentID) -> [UInt8] { TorrentPointer.value(for: catalogTorrent) }

    /// The catalog torrent an item points at; throws for anything but a
    /// dictionary with a 20-byte `ih`.
    public static func catalogTorrent(in value: [UInt8]) throws -> TorrentID {
        guard let id = TorrentPointer.torrent(in: value) else {
            throw CatalogError(.malformed, "the channel's DHT pointer is not a BEP 46 value")
        }
        return id
    }

    public static func item(
        pointingAt catalogTorrent: TorrentID, sequence: Int64, salt: [UInt8] = [],
        key: Curve25519.Signing.PrivateKey
    ) throws -> DHTMutableItem {
        try TorrentPointer.item(pointingAt: catalogTorrent, sequence: sequence, salt: salt, key: key)
    }

    public static func isValid(_ item: DHTMutableItem) -> Bool { TorrentPointer.isValid(item) }
}

/// A channel's private key on disk: MATINEE_HOME/keys/<public key hex>.json,
/// mode 0600 in a 0700 folder. A key file others can read is refused.
public struct ChannelKey: Sendable {
    public let name: String
    public let privateKey: Curve25519.Signing.PrivateKey
    public let path: String

    public var publicKey: [UInt8] { Array(privateKey.publicKey.rawRepresentation) }
    public var address: ChannelAddress { ChannelAddress(publicKey: publicKey)! }

    private struct File: Codable {
        var name: String
        var secretKey: String
        var created: String
    }

    /// Makes a new key named `name` in `folder`; refuses a name already used.
    public static func create(name: String, in folder: String) throws -> ChannelKey {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 100, !trimmed.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw CatalogError(.keyFile, "a channel name must be 1-100 characters without control characters")
        }
        if (try? load(named: trimmed, in: folder)) != nil {
            throw CatalogError(.exists, "you already have a channel named \"\(trimmed)\"")
        }
        try makePrivateFolder(folder)
        let key = Curve25519.Signing.PrivateKey()
        let path = folder + "/" + Hex.encode(Array(key.publicKey.rawRepresentation)) + ".json"
        let body = File(name: trimmed, secretKey: Hex.encode(Array(key.rawRepresentation)), created: RFC3339.string(Date()))
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        let bytes = Array(try e.encode(body))
        // Created 0600 from the start: never a moment where others can read it.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw CatalogError(.keyFile, "cannot create the key file \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            unlink(path)
            throw CatalogError(.keyFile, "cannot write the key file \(path)")
        }
        return ChannelKey(name: trimmed, privateKey: key, path: path)
    }

    /// Every key in `folder`, each checked; a bad file throws.
    public static func all(in folder: String) throws -> [ChannelKey] {
        try keyFiles(in: folder).map { try load(path: $0) }
    }

    /// The key whose name (case-insensitive) or address is `nameOrAddress`.
    /// Only that key's file is checked: a loose file elsewhere does not block it.
    public static func load(named nameOrAddress: String, in folder: String) throws -> ChannelKey {
        let files = keyFiles(in: folder)
        if let a = ChannelAddress(nameOrAddress) {
            let path = folder + "/" + Hex.encode(a.publicKey) + ".json"
            if files.contains(path) { return try load(path: path) }
        }
        let wanted = nameOrAddress.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        for path in files {
            guard let data = FileManager.default.contents(atPath: path), data.count < 64 << 10,
                let f = try? JSONDecoder().decode(File.self, from: data), f.name.lowercased() == wanted
            else { continue }
            return try load(path: path)
        }
        throw CatalogError(.notFound, "no channel key named \"\(nameOrAddress)\" (make one with: matinee channel new NAME)")
    }

    private static func keyFiles(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
            .map { folder + "/" + $0 }
    }

    public static func load(path: String) throws -> ChannelKey {
        var st = stat()
        guard stat(path, &st) == 0 else { throw CatalogError(.keyFile, "cannot read the key file \(path)") }
        let mode = st.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw CatalogError(
                .keyFile,
                "the key file \(path) can be read by others (mode \(String(mode, radix: 8))); run: chmod 600 \(path)")
        }
        guard st.st_size < 64 << 10, let data = FileManager.default.contents(atPath: path),
            let f = try? JSONDecoder().decode(File.self, from: data), let seed = Hex.decode(f.secretKey), seed.count == 32,
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        else { throw CatalogError(.keyFile, "the key file \(path) is damaged") }
        return ChannelKey(name: f.name, privateKey: key, path: path)
    }

    static func makePrivateFolder(_ folder: String) throws {
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CatalogError(.keyFile, "cannot create \(folder): \(error.localizedDescription)")
        }
    }
}
