import Foundation
public import NIOCore
import NIOPosix
import Synchronization
import TorrentKit

/// One ffmpeg process turning a stream into fragmented MP4 (see
/// `PlaybackPlan`). Its output is read through a NIO pipe channel, so no
/// thread blocks on it and a slow reader slows ffmpeg down instead of
/// filling memory. The process is killed when the reader stops.
public final class Transcode: Sendable {
    private let process: Process
    private let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private let errors: Mutex<String> = Mutex("")
    private let stopped = Atomic<Bool>(false)

    public static var ffmpegPath: String? {
        ["/usr/bin/ffmpeg", "/usr/local/bin/ffmpeg"].first(where: FileManager.default.isExecutableFile)
    }

    private init(process: Process, channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) {
        self.process = process
        self.channel = channel
    }

    /// Starts ffmpeg with `arguments` (which must write to `pipe:1`).
    public static func start(arguments: [String]) async throws -> Transcode {
        guard let ffmpeg = ffmpegPath else { throw EngineError(.io, "converting this video needs ffmpeg (apt-get install ffmpeg)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ffmpeg)
        p.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        do {
            try p.run()
        } catch {
            throw EngineError(.io, "cannot run ffmpeg: \(error.localizedDescription)")
        }
        try? out.fileHandleForWriting.close()
        try? err.fileHandleForWriting.close()
        // NIO takes its own copy of the read end.
        let fd = dup(out.fileHandleForReading.fileDescriptor)
        try? out.fileHandleForReading.close()
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .takingOwnershipOfDescriptor(input: fd) { ch in
                    ch.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: ch)
                    }
                }
        } catch {
            close(fd)
            p.terminate()
            throw EngineError(.io, "cannot read ffmpeg's output: \(error)")
        }
        let t = Transcode(process: p, channel: channel)
        // ffmpeg's messages, kept (bounded) for the error a user sees.
        DispatchQueue.global().async { [t] in
            let handle = err.fileHandleForReading
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                t.errors.withLock { e in if e.utf8.count < 4096 { e += String(decoding: chunk, as: UTF8.self) } }
            }
        }
        return t
    }

    /// The first line ffmpeg wrote to stderr, if any.
    public var errorLine: String? {
        errors.withLock { $0.split(separator: "\n").first.map { String($0).trimmingCharacters(in: .whitespaces) } }
    }

    /// Runs `body` with ffmpeg's output; ffmpeg is stopped when it returns or throws.
    public func withOutput<T>(_ body: (NIOAsyncChannelInboundStream<ByteBuffer>) async throws -> T) async throws -> T {
        defer { stop() }
        return try await channel.executeThenClose { inbound, _ in try await body(inbound) }
    }

    /// Kills ffmpeg (once). Foundation's Process reaps it.
    public func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    deinit { stop() }
}
