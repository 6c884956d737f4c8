import CLibtorrent
import Dispatch
import Foundation

/// Makes .torrent files (hybrid v1+v2, as libtorrent does by default).
public enum TorrentMaker {
    /// Hashes `path` (a file or a folder) and returns the .torrent bytes.
    /// `progress` is called from the hashing thread with (pieces done, total).
    /// Hashing runs on a thread of its own, not on the caller's.
    public static func make(
        path: String,
        pieceSize: Int = 0,
        trackers: [String] = [],
        webSeeds: [String] = [],
        progress: (@Sendable (Int, Int) -> Void)? = nil
    ) async throws -> [UInt8] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw EngineError(.io, "no such file or folder: \(path)")
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<[UInt8], any Error>) in
            let thread = Thread {
                c.resume(
                    with: Self.makeBlocking(
                        path: absolute, pieceSize: pieceSize, trackers: trackers, webSeeds: webSeeds, progress: progress))
            }
            thread.name = "matinee.hashing"
            thread.start()
        }
    }

    private final class ProgressBox {
        let fn: (Int, Int) -> Void
        init(_ fn: @escaping (Int, Int) -> Void) { self.fn = fn }
    }

    private static func makeBlocking(
        path: String, pieceSize: Int, trackers: [String], webSeeds: [String],
        progress: (@Sendable (Int, Int) -> Void)?
    ) -> Result<[UInt8], any Error> {
        let box = ProgressBox { done, total in progress?(done, total) }
        let ctx = Unmanaged.passRetained(box)
        defer { ctx.release() }
        let tr = trackers.map { strdup($0) }
        let ws = webSeeds.map { strdup($0) }
        defer {
            tr.forEach { free($0) }
            ws.forEach { free($0) }
        }
        var err = mt_error()
        var out: UnsafeMutablePointer<UInt8>?
        var len = 0
        let rc = tr.map { UnsafePointer($0) }.withUnsafeBufferPointer { t in
            ws.map { UnsafePointer($0) }.withUnsafeBufferPointer { w in
                mt_create_torrent(
                    path, Int32(pieceSize), t.baseAddress, t.count, w.baseAddress, w.count, "Matinee",
                    { ctx, piece, total in
                        guard let ctx else { return }
                        Unmanaged<ProgressBox>.fromOpaque(ctx).takeUnretainedValue().fn(Int(piece) + 1, Int(total))
                    },
                    ctx.toOpaque(), &out, &len, &err)
            }
        }
        guard rc == 0, let out else {
            return .failure(EngineError(.io, "cannot make a torrent of \(path): \(String(cString: errorMessage(&err)))"))
        }
        defer { mt_free(out) }
        return .success(Array(UnsafeBufferPointer(start: out, count: len)))
    }
}
