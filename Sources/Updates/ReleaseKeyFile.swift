public import Crypto
import CryptoExtras
import Foundation
import TorrentKit

/// A maintainer's release key on disk (docs/release-format.md §2): the
/// Ed25519 seed sealed with ChaCha20-Poly1305 under a key derived from a
/// passphrase by scrypt, as minisign and signify keep theirs. Mode 0600 in a
/// 0700 folder; a file others can read is refused, as is a wrong passphrase.
public struct ReleaseKeyFile: Sendable {
    public let name: String
    public let privateKey: Curve25519.Signing.PrivateKey
    public let path: String

    public var publicKey: [UInt8] { Array(privateKey.publicKey.rawRepresentation) }

    struct File: Codable {
        var name: String
        var publicKey: String
        var created: String
        var kdf: String
        var n: Int
        var r: Int
        var p: Int
        var salt: String
        /// nonce | ciphertext | tag of the 32-byte seed.
        var sealed: String
    }

    /// scrypt's cost: 2^16 x 8 x 1 (64 MiB, well under a second).
    static let cost = (n: 1 << 16, r: 8, p: 1)

    public static func path(named name: String, in folder: String) -> String { folder + "/" + name + ".key" }

    /// Makes a new key; refuses a name in use and an empty passphrase.
    public static func create(name: String, passphrase: [UInt8], in folder: String) throws -> ReleaseKeyFile {
        guard !name.isEmpty, name.count <= 64, ReleaseManifest.isPlainName(name), !name.hasPrefix(".") else {
            throw ReleaseError(.keyFile, "a release key name is 1-64 letters, digits, '-', '_' or '.'")
        }
        guard passphrase.count >= 8 else { throw ReleaseError(.keyFile, "the passphrase must be at least 8 characters") }
        let p = path(named: name, in: folder)
        guard !FileManager.default.fileExists(atPath: p) else {
            throw ReleaseError(.keyFile, "a release key named \"\(name)\" already exists (\(p))")
        }
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ReleaseError(.keyFile, "cannot create \(folder): \(error.localizedDescription)")
        }
        let key = Curve25519.Signing.PrivateKey()
        let salt = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let pk = Array(key.publicKey.rawRepresentation)
        let sealed = try ChaChaPoly.seal(
            key.rawRepresentation, using: try derive(passphrase, salt: salt, cost: cost), authenticating: Data(Array(name.utf8) + pk)
        ).combined
        let body = File(
            name: name, publicKey: Hex.encode(pk), created: RFC3339.string(Date()), kdf: "scrypt", n: cost.n, r: cost.r, p: cost.p,
            salt: Hex.encode(salt), sealed: Hex.encode(Array(sealed)))
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        let bytes = Array(try e.encode(body)) + [0x0a]
        let fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ReleaseError(.keyFile, "cannot create \(p): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count, fsync(fd) == 0 else {
            unlink(p)
            throw ReleaseError(.keyFile, "cannot write \(p)")
        }
        return ReleaseKeyFile(name: name, privateKey: key, path: p)
    }

    /// The public half only: no passphrase needed.
    public static func publicKey(named name: String, in folder: String) throws -> [UInt8] {
        let f = try read(path(named: name, in: folder))
        guard let pk = Hex.decode(f.publicKey), pk.count == 32 else { throw ReleaseError(.keyFile, "the release key \(name) is damaged") }
        return pk
    }

    public static func load(named name: String, passphrase: [UInt8], in folder: String) throws -> ReleaseKeyFile {
        let p = path(named: name, in: folder)
        let f = try read(p)
        guard f.kdf == "scrypt", (1 << 10...1 << 20).contains(f.n), f.n & (f.n - 1) == 0, (1...32).contains(f.r), (1...16).contains(f.p),
            let salt = Hex.decode(f.salt), let sealed = Hex.decode(f.sealed), let pk = Hex.decode(f.publicKey), pk.count == 32
        else { throw ReleaseError(.keyFile, "the release key file \(p) is damaged") }
        let seed: Data
        do {
            let box = try ChaChaPoly.SealedBox(combined: Data(sealed))
            seed = try ChaChaPoly.open(
                box, using: try derive(passphrase, salt: salt, cost: (f.n, f.r, f.p)), authenticating: Data(Array(f.name.utf8) + pk))
        } catch {
            throw ReleaseError(.keyFile, "wrong passphrase for the release key \(name) (or its file \(p) was altered)")
        }
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed), Array(key.publicKey.rawRepresentation) == pk else {
            throw ReleaseError(.keyFile, "the release key file \(p) is damaged")
        }
        return ReleaseKeyFile(name: f.name, privateKey: key, path: p)
    }

    private static func read(_ p: String) throws -> File {
        var st = stat()
        guard stat(p, &st) == 0 else {
            throw ReleaseError(.keyFile, "no release key at \(p) (make one with: matinee release new NAME)")
        }
        let mode = st.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw ReleaseError(.keyFile, "the release key \(p) can be read by others (mode \(String(mode, radix: 8))); run: chmod 600 \(p)")
        }
        guard st.st_size < 16 << 10, let d = FileManager.default.contents(atPath: p), let f = try? JSONDecoder().decode(File.self, from: d)
        else {
            throw ReleaseError(.keyFile, "the release key file \(p) is damaged")
        }
        return f
    }

    private static func derive(_ passphrase: [UInt8], salt: [UInt8], cost: (n: Int, r: Int, p: Int)) throws -> SymmetricKey {
        try KDF.Scrypt.deriveKey(
            from: passphrase, salt: salt, outputByteCount: 32, rounds: cost.n, blockSize: cost.r, parallelism: cost.p,
            maxMemory: 256 << 20)
    }
}
