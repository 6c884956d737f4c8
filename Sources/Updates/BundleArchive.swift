import CompressNIO
import Foundation
import NIOCore
import TorrentKit

/// Extracts a release bundle (.tar.gz, ustar) into a fresh folder, refusing
/// anything that could write outside it or smuggle privilege: absolute
/// paths, "..", links that leave the root (or any hard link), devices,
/// FIFOs, setuid and setgid bits, entries below a symlink, a second entry
/// for one path, and more than one top folder. Runs only on an archive whose
/// SHA-256 the signed manifest already vouched for; the checks hold anyway.
public enum BundleArchive {
    public static let maxEntries = 20_000
    public static let maxExpandedBytes: Int64 = 4 << 30

    /// Extracts `archive` into `destination` (created; must not exist) and
    /// returns the name of the one top folder. On error the destination is
    /// removed: nothing half-written is left.
    public static func extract(_ archive: String, into destination: String) throws -> String {
        guard mkdir(destination, 0o755) == 0 else { throw localFailure("cannot create \(destination)") }
        do {
            let input = try GzipReader(path: archive)
            var extraction = Extraction(root: destination, input: input)
            return try extraction.run()
        } catch {
            try? FileManager.default.removeItem(atPath: destination)
            if let e = error as? ReleaseError { throw e }
            throw ReleaseError(.unsafeArchive, "the release archive cannot be read: \(error)")
        }
    }

    /// This machine's trouble, not the archive's (errno says which): a full
    /// disk is `.diskFull`, anything else `.install`; neither refuses the release.
    static func localFailure(_ what: String) -> ReleaseError {
        let code = errno
        return ReleaseError(DiskSpace.isFull(code) ? .diskFull : .install, "\(what): \(String(cString: strerror(code)))")
    }

    /// The path an entry names, made relative ("./a/b/" -> "a/b"), or a
    /// refusal for absolute paths, "..", control characters and empties.
    static func relativePath(_ raw: String) throws -> [String] {
        guard !raw.hasPrefix("/") else {
            throw ReleaseError(.unsafeArchive, "refused the release archive: it holds an absolute path (\(printable(raw)))")
        }
        guard !raw.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw ReleaseError(.unsafeArchive, "refused the release archive: a file name holds control characters")
        }
        let parts = raw.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
        guard !parts.contains("..") else {
            throw ReleaseError(.unsafeArchive, "refused the release archive: a path climbs out of it (\(printable(raw)))")
        }
        guard !parts.isEmpty else { throw ReleaseError(.unsafeArchive, "refused the release archive: an entry has no name") }
        return parts
    }

    static func printable(_ s: String) -> String { String(s.prefix(120)) }
}

private struct Extraction {
    let root: String
    let input: GzipReader
    var top: String?
    var seen = Set<String>()
    var symlinks = Set<String>()
    var expanded: Int64 = 0
    var entries = 0

    init(root: String, input: GzipReader) {
        self.root = root
        self.input = input
    }

    mutating func run() throws -> String {
        while true {
            guard let header = try input.read(512) else { break }
            if header.allSatisfy({ $0 == 0 }) { break }  // end of archive (two zero blocks; one is enough)
            try entry(TarHeader(header))
        }
        guard let top else { throw ReleaseError(.unsafeArchive, "refused the release archive: it is empty") }
        return top
    }

    private mutating func entry(_ h: TarHeader) throws {
        entries += 1
        guard entries <= BundleArchive.maxEntries else {
            throw ReleaseError(.unsafeArchive, "refused the release archive: too many entries")
        }
        let parts = try BundleArchive.relativePath(h.path)
        let path = parts.joined(separator: "/")
        if let top, top != parts[0] {
            throw ReleaseError(.unsafeArchive, "refused the release archive: it has more than one top folder (\(top), \(parts[0]))")
        }
        top = parts[0]
        guard seen.insert(path).inserted else {
            throw ReleaseError(.unsafeArchive, "refused the release archive: it names \(BundleArchive.printable(path)) twice")
        }
        for i in 1..<parts.count where symlinks.contains(parts[0..<i].joined(separator: "/")) {
            throw ReleaseError(.unsafeArchive, "refused the release archive: \(BundleArchive.printable(path)) lies below a symbolic link")
        }
        guard h.mode & 0o6000 == 0 else {
            throw ReleaseError(.unsafeArchive, "refused the release archive: \(BundleArchive.printable(path)) has a setuid or setgid bit")
        }
        let abs = root + "/" + path
        switch h.type {
        case "0", "\0", "7":
            expanded += h.size
            guard expanded <= BundleArchive.maxExpandedBytes else {
                throw ReleaseError(.unsafeArchive, "refused the release archive: it expands to more than 4 GiB")
            }
            try makeParents(parts)
            let fd = open(abs, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, h.mode & 0o111 != 0 ? 0o755 : 0o644)
            guard fd >= 0 else { throw BundleArchive.localFailure("cannot write \(abs)") }
            defer { close(fd) }
            var left = h.size
            while left > 0 {
                let n = Int(min(left, 1 << 20))
                guard let chunk = try input.read(n) else {
                    throw ReleaseError(.unsafeArchive, "refused the release archive: it is truncated")
                }
                var at = 0
                while at < chunk.count {
                    let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress! + at, $0.count - at) }
                    if written < 0, errno == EINTR { continue }
                    guard written > 0 else { throw BundleArchive.localFailure("cannot write \(abs)") }
                    at += written
                }
                left -= Int64(n)
            }
            _ = try input.read(Int((512 - h.size % 512) % 512))
        case "5":
            try makeParents(parts + ["x"])
        case "2":
            // The target must stay inside the top folder, resolved from the
            // link's own folder, and may not be absolute.
            let target = h.linkName
            guard !target.hasPrefix("/"), !target.isEmpty else {
                throw ReleaseError(
                    .unsafeArchive, "refused the release archive: the link \(BundleArchive.printable(path)) points at an absolute path")
            }
            var resolved = Array(parts.dropLast())
            for c in target.split(separator: "/").map(String.init) where c != "." {
                if c == ".." {
                    guard resolved.count > 1 else {
                        throw ReleaseError(
                            .unsafeArchive, "refused the release archive: the link \(BundleArchive.printable(path)) points out of it")
                    }
                    resolved.removeLast()
                } else {
                    resolved.append(c)
                }
            }
            try makeParents(parts)
            guard symlink(target, abs) == 0 else { throw BundleArchive.localFailure("cannot create the link \(abs)") }
            symlinks.insert(path)
        case "1":
            throw ReleaseError(.unsafeArchive, "refused the release archive: it holds a hard link (\(BundleArchive.printable(path)))")
        case "3", "4":
            throw ReleaseError(.unsafeArchive, "refused the release archive: it holds a device file (\(BundleArchive.printable(path)))")
        case "6":
            throw ReleaseError(.unsafeArchive, "refused the release archive: it holds a FIFO (\(BundleArchive.printable(path)))")
        default:
            throw ReleaseError(
                .unsafeArchive,
                "refused the release archive: entry type \"\(h.type)\" is not plain ustar (\(BundleArchive.printable(path)))")
        }
    }

    /// Creates the folders above the last component, without following links.
    private func makeParents(_ parts: [String]) throws {
        var p = root
        for c in parts.dropLast() {
            p += "/" + c
            var st = stat()
            if lstat(p, &st) == 0 {
                guard st.st_mode & S_IFMT == S_IFDIR else {
                    throw ReleaseError(.unsafeArchive, "refused the release archive: \(c) is both a file and a folder")
                }
                continue
            }
            guard mkdir(p, 0o755) == 0 else { throw BundleArchive.localFailure("cannot create \(p)") }
        }
    }
}

/// One ustar header block, its checksum checked.
private struct TarHeader {
    let path: String
    let mode: Int
    let size: Int64
    let type: Character
    let linkName: String

    init(_ b: [UInt8]) throws {
        func field(_ at: Int, _ len: Int) -> [UInt8] {
            let s = b[at..<at + len]
            return Array(s.prefix { $0 != 0 })
        }
        func octal(_ at: Int, _ len: Int) throws -> Int64 {
            let digits = field(at, len).filter { $0 != 0x20 }
            guard !digits.isEmpty, digits.allSatisfy({ (0x30...0x37).contains($0) }),
                let v = Int64(String(decoding: digits, as: UTF8.self), radix: 8)
            else { throw ReleaseError(.unsafeArchive, "refused the release archive: a header is damaged") }
            return v
        }
        let sum = b.enumerated().reduce(0) { $0 + Int(($1.offset >= 148 && $1.offset < 156) ? 0x20 : $1.element) }
        guard try octal(148, 8) == Int64(sum) else {
            throw ReleaseError(.unsafeArchive, "refused the release archive: a header's checksum is wrong")
        }
        guard String(decoding: b[257..<262], as: UTF8.self) == "ustar" else {
            throw ReleaseError(.unsafeArchive, "refused the release archive: it is not a ustar archive")
        }
        let name = String(decoding: field(0, 100), as: UTF8.self)
        let prefix = String(decoding: field(345, 155), as: UTF8.self)
        path = prefix.isEmpty ? name : prefix + "/" + name
        mode = Int(try octal(100, 8))
        type = Character(UnicodeScalar(b[156]))
        size = ["0", "\0", "7"].contains(type) ? try octal(124, 12) : 0
        linkName = String(decoding: field(157, 100), as: UTF8.self)
    }
}

/// Reads a gzip file as a stream of exact-length chunks.
private final class GzipReader {
    let handle: FileHandle
    let inflater: ZlibDecompressor
    var input = ByteBuffer()
    var output = ByteBuffer()
    var pending: [UInt8] = []
    var eof = false

    init(path: String) throws {
        guard let h = FileHandle(forReadingAtPath: path) else { throw ReleaseError(.install, "cannot read \(path)") }
        handle = h
        inflater = try ZlibDecompressor(algorithm: .gzip)
    }

    deinit { try? handle.close() }

    /// Exactly `n` bytes, or nil at the end of the stream (or a short read).
    func read(_ n: Int) throws -> [UInt8]? {
        if n == 0 { return [] }
        while pending.count < n {
            guard try fill() else { return nil }
        }
        let out = Array(pending.prefix(n))
        pending.removeFirst(n)
        return out
    }

    /// Inflates one more window; false at the end.
    private func fill() throws -> Bool {
        if input.readableBytes == 0 {
            if eof { return false }
            let data = handle.readData(ofLength: 256 << 10)
            if data.isEmpty {
                eof = true
                return false
            }
            input = ByteBuffer(bytes: data)
        }
        output = ByteBufferAllocator().buffer(capacity: 512 << 10)
        let before = input.readableBytes
        do {
            try inflater.inflate(from: &input, to: &output)
        } catch let e as CompressNIOError where e == .bufferOverflow || e == .inputBufferOverflow {
            // The window is full, or the input is used up: both are progress.
        } catch {
            throw ReleaseError(.unsafeArchive, "refused the release archive: it is not valid gzip")
        }
        // No input taken and nothing given: the gzip stream has ended.
        if output.readableBytes == 0, input.readableBytes == before { return false }
        pending += output.readableBytesView
        return true
    }
}
