// The streaming benchmark: Matinee against libtorrent's plain sequential
// download, in one run, on loopback, from four upload-capped seeders.
//
// Measures, for each:
//   - start: seconds from launch until the first 4 MiB at offset 0 can be read;
//   - seek:  seconds from a seek to 25%, 50% and 75% until its first byte;
//   - stalls: a reader consuming at a fixed bitrate from the start (after the
//     first 4 MiB): how many times, and how long, it waits for data.
// The baseline is python3-libtorrent with sequential_download, reading the
// file as its pieces complete (Tests/Fixtures/lt_seeder.py leech). A seek in
// the baseline is served when sequential download reaches that piece.
//
// This is a harness, not a test: figures go to docs/benchmarks.md.
import Foundation
import TestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

struct Config {
    var fileMiB = 48
    var pieceKiB = 256
    var seeders = 4
    var seederKiBps = 1024
    var bitrateKiBps = 1536
    /// The reader's rate as a share of the swarm's capacity (overrides --bitrate-kibps).
    var load: Double?
    /// Playback starts once this much is in (seconds of playback, at least 1 MiB).
    var initialSeconds = 2.0
    /// The player never reads more than this far ahead of playback.
    var bufferSeconds = 10.0
    var rounds = 1
    var compareDiskIO = false
    /// Only the player runs (no start and seek runs), for quick iteration.
    var stallsOnly = false
    var baseline = true
    /// One seeder is killed this many seconds into playback (nil: none).
    var seederLeavesAt: Double?
    /// Also time the whole file, read as fast as it comes, and Matinee's peak memory.
    var wholeFile = false
    /// qBittorrent-nox as a contender (with the baseline).
    var qbittorrent = true
    /// Seconds of a variable-bitrate H.264 video made with ffmpeg, streamed
    /// instead of random bytes (nil: random bytes at a fixed rate).
    var vbrSeconds: Double?
}

var config = Config()
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    func value() -> Int { Int(args.popFirst() ?? "") ?? 0 }
    func seconds() -> Double {
        guard let v = Double(args.popFirst() ?? ""), v.isFinite, v >= 0 else {
            FileHandle.standardError.write(Data("\(a) needs a number of at least 0; see --help\n".utf8))
            exit(2)
        }
        return v
    }
    switch a {
    case "--file-mib": config.fileMiB = value()
    case "--piece-kib": config.pieceKiB = value()
    case "--seeders": config.seeders = value()
    case "--seeder-kibps": config.seederKiBps = value()
    case "--bitrate-kibps": config.bitrateKiBps = value()
    case "--load": config.load = seconds()
    case "--initial-seconds": config.initialSeconds = seconds()
    case "--ahead-seconds": config.bufferSeconds = seconds()
    case "--rounds": config.rounds = value()
    case "--compare-disk-io": config.compareDiskIO = true
    case "--stalls-only": config.stallsOnly = true
    case "--no-baseline": config.baseline = false
    case "--seeder-leaves": config.seederLeavesAt = seconds()
    case "--whole-file": config.wholeFile = true
    case "--no-qbittorrent": config.qbittorrent = false
    case "--vbr": config.vbrSeconds = seconds()
    case "-h", "--help":
        print(
            """
            usage: matinee-bench [--file-mib N] [--piece-kib N] [--seeders N] [--seeder-kibps N]
                                 [--bitrate-kibps N | --load X] [--initial-seconds S] [--ahead-seconds S]
                                 [--rounds N] [--compare-disk-io] [--stalls-only] [--no-baseline]
                                 [--seeder-leaves S] [--whole-file] [--no-qbittorrent] [--vbr S]
            Streams one file from N upload-capped python3-libtorrent seeders on loopback, with Matinee,
            libtorrent's sequential download and qBittorrent's (sequential, first and last pieces first,
            driven through its Web API), and prints the figures side by side. Start and seek runs also
            time a fresh process asked for 1 MiB at 25/50/75% against a libtorrent leecher with deadlines
            on those pieces and the floor: a libtorrent leecher that wants only them.
              --load X             the player reads at X times the swarm's capacity (seeders x rate);
                                   0.8 and 1.0 are the hard end, where stalls show
              --initial-seconds S  playback starts once S seconds of it are in (default 2)
              --ahead-seconds S    the player reads at most S seconds ahead of playback (default 10)
              --stalls-only        only the player runs (no start and seek figures)
              --no-baseline        Matinee alone, to compare two builds of it quickly
              --no-qbittorrent     leave qBittorrent out (it needs qbittorrent-nox installed)
              --whole-file         also the whole file read as fast as it comes (baseline: until
                                   sequential download has it all) and Matinee's peak memory
              --seeder-leaves S    one seeder is killed S seconds into playback, for both clients
                                   (the swarm then has 1 - 1/N of its capacity: pick --load below that)
              --vbr S              stream S seconds of variable-bitrate H.264 in MPEG-TS made with ffmpeg
                                   (calm and noisy 4 s stretches) instead of random bytes: the player
                                   needs each byte at the time of the packet it belongs to (ffprobe's
                                   packet table), and --load sizes the seeders from its average bitrate
            Needs a built matinee (MATINEE_BIN, or .build/release or .build/debug).
            """)
        exit(0)
    default:
        FileHandle.standardError.write(Data("unknown argument \(a); see --help\n".utf8))
        exit(2)
    }
}

func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

struct Figures {
    var start = 0.0
    /// Seconds until the whole file was read (--whole-file), and peak RSS in MiB.
    var whole = 0.0
    var peakMiB = 0.0
    var seeks: [Double] = []
    var stalls = 0
    var stallSeconds = 0.0
}

/// When playback needs each byte of the file: at a fixed rate, or from a
/// video's packet table (the time of the packet a byte belongs to).
struct PlaybackTimes {
    /// Bytes per second: fixed, or the video's average.
    var rate: Double
    /// (byte offset, seconds) of each packet, in file order; empty: fixed rate.
    var packets: [(pos: Double, t: Double)] = []

    /// Seconds into playback at which byte `b` is needed.
    func time(atByte b: Double) -> Double {
        guard !packets.isEmpty else { return b / rate }
        var (lo, hi) = (0, packets.count - 1)
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if packets[mid].pos <= b { lo = mid } else { hi = mid - 1 }
        }
        return packets[lo].t
    }

    /// The first byte needed after `s` seconds of playback.
    func byte(atTime s: Double) -> Int {
        guard !packets.isEmpty else { return Int(s * rate) }
        return Int(packets.first { $0.t >= s }?.pos ?? packets.last!.pos)
    }
}

/// Plays bytes arriving as (time, cumulative bytes) against a clock started
/// at `clockStart`, each byte needed at its time in `times`; counts the stalls.
struct PlaybackModel {
    var clockStart: Double
    var stalled = 0.0
    var stalls = 0

    /// Data up to `bytes` became readable at time `t`, having been short until then.
    mutating func arrived(bytes previous: Double, at t: Double) {
        let at = playback.time(atByte: previous)
        let needAt = clockStart + stalled + at
        if t > needAt + 0.05 {
            log(String(format: "  stall at %.1f s of playback (byte %.0f MiB): %.2f s", at, previous / 1048576, t - needAt))
            stalls += 1
            stalled += t - needAt
        }
    }
}

let dir = TempDir("matinee-bench")
let piece = config.pieceKiB << 10
let dataFile = dir.path + (config.vbrSeconds == nil ? "/data/film.bin" : "/data/film.ts")
let size: Int
let playback: PlaybackTimes
if let seconds = config.vbrSeconds {
    guard seconds >= 4, FileManager.default.isExecutableFile(atPath: "/usr/bin/ffmpeg") else {
        log("--vbr needs at least 4 seconds and ffmpeg (apt-get install ffmpeg)")
        exit(2)
    }
    log("Making \(seconds) s of variable-bitrate H.264 with ffmpeg")
    let made = try await makeVBRVideo(seconds: seconds, at: dataFile)
    size = made.size
    playback = made.times
    config.fileMiB = size >> 20
    if let load = config.load { config.seederKiBps = max(1, Int(playback.rate / load / Double(config.seeders)) >> 10) }
    config.bitrateKiBps = Int(playback.rate) >> 10
    var rates: [Double] = []
    for k in 0..<Int(seconds / 4) {
        let bytes = playback.byte(atTime: Double(k + 1) * 4) - playback.byte(atTime: Double(k) * 4)
        rates.append(Double(bytes) * 2 / 1e6)  // bits per second over 4 s, in Mbit/s
    }
    log(
        "  \(size >> 20) MiB, \(String(format: "%.1f", playback.rate * 8 / 1e6)) Mbit/s on average; every 4 s: "
            + rates.map { String(format: "%.0f", $0) }.joined(separator: " ") + " Mbit/s")
} else {
    if let load = config.load { config.bitrateKiBps = max(1, Int(load * Double(config.seeders * config.seederKiBps))) }
    size = config.fileMiB << 20
    playback = PlaybackTimes(rate: Double(config.bitrateKiBps << 10))
    try Fixtures.writeRandomFile(dataFile, size: size, seed: 99)
}
/// Bytes in before playback starts.
let initialBytes = max(1 << 20, playback.byte(atTime: config.initialSeconds))
log(
    "A \(config.fileMiB) MiB file, \(config.pieceKiB) KiB pieces; \(config.seeders) seeders at \(config.seederKiBps) KiB/s each; reader at \(config.bitrateKiBps) KiB/s"
)

/// A variable-bitrate H.264 MPEG-TS (no B-frames, so packets come in
/// presentation order): 4 s stretches of a calm test pattern (about 8
/// Mbit/s), the same with noise (about 20) and with lighter noise (about
/// 8), repeated, so peaks of 1.7x the average last 4 s; and its packet table.
func makeVBRVideo(seconds: Double, at path: String) async throws -> (size: Int, times: PlaybackTimes) {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let looks = ["", ",noise=alls=8:allf=t", ",noise=alls=6:allf=t"]
    let stretches = max(1, Int((seconds / 4).rounded(.up)))
    var args = ["-hide_banner", "-loglevel", "error", "-y"]
    for k in 0..<stretches { args += ["-f", "lavfi", "-i", "testsrc2=s=1280x720:r=30:d=4\(looks[k % looks.count])"] }
    args += [
        "-filter_complex", (0..<stretches).map { "[\($0)]" }.joined() + "concat=n=\(stretches):v=1:a=0", "-t", String(seconds),
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "23", "-bf", "0", "-g", "60", "-f", "mpegts", path,
    ]
    let ffmpeg = try TestProcess("/usr/bin/ffmpeg", args, name: "ffmpeg")
    guard try await ffmpeg.waitForExit(timeout: .seconds(600)) == 0 else {
        throw TestFailure("ffmpeg failed: \(ffmpeg.stderr.suffix(2000))")
    }
    let probe = try TestProcess(
        "/usr/bin/ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=dts_time,pos", "-of", "csv=p=0", path],
        name: "ffprobe")
    _ = try await probe.waitForExit(timeout: .seconds(120))
    var packets: [(pos: Double, t: Double)] = []
    for line in probe.lines {
        let f = line.split(separator: ",")
        guard f.count >= 2, let t = Double(f[0]), let pos = Double(f[1]) else { continue }
        packets.append((pos, t))
    }
    guard let t0 = packets.first?.t, let tEnd = packets.last?.t, tEnd > t0 else { throw TestFailure("ffprobe found no packets") }
    packets.sort { $0.pos < $1.pos }
    var latest = 0.0
    packets = packets.map { p in
        latest = max(latest, p.t - t0)
        return (p.pos, latest)
    }
    let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    return (size, PlaybackTimes(rate: Double(size) / (tEnd - t0), packets: packets))
}

@MainActor func startSeeders() async throws -> [LibtorrentSeeder] {
    var seeders = [LibtorrentSeeder]()
    let torrent = dir.path + "/film.torrent"
    for i in 0..<config.seeders {
        seeders.append(
            try await LibtorrentSeeder.start(
                data: dataFile, torrentOut: i == 0 && !FileManager.default.fileExists(atPath: torrent) ? torrent : nil,
                torrentIn: i == 0 && !FileManager.default.fileExists(atPath: torrent) ? nil : torrent,
                uploadLimit: config.seederKiBps << 10, pieceSize: piece))
    }
    // A seeder's rate limiter hands out quota on its own half-second ticks,
    // counted from its start: a client started at a fixed time after fresh
    // seeders meets them at the same phase of those ticks in every round,
    // which moved one client's start by up to 0.9 s against another's. A
    // random wait, the same for every client, gives each a random phase, as
    // in a swarm of long-running peers; the medians over rounds compare them.
    try await Task.sleep(for: .milliseconds(Int.random(in: 0..<1000)))
    return seeders
}

// MARK: Matinee

/// A fresh `matinee play` of the film on the seeders, with a home and a
/// download folder of its own: the process, its stream URL, and when it was launched.
@MainActor func launchMatinee(
    _ label: String, seeders: [LibtorrentSeeder], environment: [String: String] = [:]
) async throws -> (
    p: TestProcess, url: String, t0: Double
) {
    let cli = MatineeCLI(home: dir.sub("home-\(label)"))
    let t0 = now()
    var args = ["--download-dir", dir.sub("dl-\(label)")]
    for s in seeders { args += ["--peer", s.peer] }
    let (p, url) = try await cli.play(dir.path + "/film.torrent", args, environment: environment)
    return (p, url, t0)
}

@MainActor func matineeRun(seeders: [LibtorrentSeeder], round: Int, measureStalls: Bool, diskIO: String = "posix") async throws -> Figures {
    let (p, url, t0) = try await launchMatinee(
        "\(round)-\(measureStalls)-\(diskIO)", seeders: seeders, environment: ["MATINEE_DISK_IO": diskIO])
    defer { p.kill() }
    do {
        return try await measure(url: url, t0: t0, measureStalls: measureStalls, seeders: seeders)
    } catch {
        // What matinee said, for a failure seen only in a long run.
        throw TestFailure(
            "\(error)\nmatinee \(p.isRunning ? "still running" : "exited \(p.process.terminationStatus)"); its stderr ends:\n\(p.stderr.suffix(4000))"
        )
    }
}

/// Kills the first seeder `config.seederLeavesAt` seconds after `start`, if asked.
@MainActor func scheduleSeederLeaving(_ seeders: [LibtorrentSeeder], playbackStartedAt start: Double) {
    guard let after = config.seederLeavesAt, let first = seeders.first else { return }
    Task { @MainActor in
        try? await Task.sleep(for: .milliseconds(Int(max(0, start + after - now()) * 1000)))
        log("  a seeder leaves (\(String(format: "%.1f", now() - start)) s into playback)")
        first.process.kill(SIGKILL)
    }
}

@MainActor func measure(url: String, t0: Double, measureStalls: Bool, seeders: [LibtorrentSeeder]) async throws -> Figures {
    var f = Figures()
    if !measureStalls {
        let first = try await HTTP.request(url, headers: ["Range": "bytes=0-\((4 << 20) - 1)"], timeout: 300)
        guard first.body.count == 4 << 20 else { throw TestFailure("short read") }
        f.start = now() - t0
        for pct in [25, 50, 75] {
            let offset = size / 100 * pct
            let ts = now()
            let r = try await HTTP.request(url, headers: ["Range": "bytes=\(offset)-\(offset)"], timeout: 300)
            guard r.body.count == 1 else { throw TestFailure("short seek read") }
            f.seeks.append(now() - ts)
        }
        return f
    }
    // A player: 1 MiB requests in order, never more than bufferSeconds ahead.
    let chunk = 1 << 20
    var have = 0
    var model: PlaybackModel?
    while have < size {
        let end = min(size, have + chunk) - 1
        if let m = model {
            let ahead = playback.time(atByte: Double(have)) - (now() - m.clockStart - m.stalled)
            if ahead > config.bufferSeconds { try await Task.sleep(for: .milliseconds(Int((ahead - config.bufferSeconds) * 1000))) }
        }
        let r = try await HTTP.request(url, headers: ["Range": "bytes=\(have)-\(end)"], timeout: 300)
        guard r.body.count == end - have + 1 else { throw TestFailure("short read") }
        let t = now()
        let previous = have
        have = end + 1
        if model == nil, have >= initialBytes {
            f.start = t - t0
            model = PlaybackModel(clockStart: t)
            scheduleSeederLeaving(seeders, playbackStartedAt: t)
        } else if model != nil {
            model!.arrived(bytes: Double(previous), at: t)
        }
    }
    f.stalls = model?.stalls ?? 0
    f.stallSeconds = model?.stalled ?? 0
    return f
}

// MARK: Baseline

/// The figures of a client that downloads in order without being asked
/// (libtorrent's sequential mode, qBittorrent's), from its timeline of
/// (time, pieces complete from the start): start and stalls as a player would
/// see them reading what is in, seeks served when the download gets there.
@MainActor func figures(timeline: [(t: Double, prefix: Int)], t0: Double) -> Figures {
    let pieces = (size + piece - 1) / piece
    func time(untilPrefix n: Int) -> Double { timeline.first { $0.prefix >= n }?.t ?? .infinity }
    var f = Figures()
    f.whole = time(untilPrefix: pieces) - t0
    let fourMiB = time(untilPrefix: (4 << 20) / piece)
    f.start = fourMiB - t0
    let startAt = time(untilPrefix: (initialBytes + piece - 1) / piece)
    // Seeks at the moment playback could start: served when sequential download gets there.
    for pct in [25, 50, 75] {
        let need = (size / 100 * pct) / piece + 1
        f.seeks.append(max(0, time(untilPrefix: need) - fourMiB))
    }
    var model = PlaybackModel(clockStart: startAt)
    var previous = Double(min(size, (initialBytes + piece - 1) / piece * piece))
    for e in timeline where e.t > startAt {
        let bytes = Double(min(size, e.prefix * piece))
        if bytes > previous {
            model.arrived(bytes: previous, at: e.t)
            previous = bytes
        }
    }
    f.stalls = model.stalls
    f.stallSeconds = model.stalled
    return f
}

/// One line of lt_seeder.py leech: its time, contiguous pieces from the
/// start, and pieces of its wanted range in.
@Sendable func leechLine(_ line: String) -> (t: Double, prefix: Int, wanted: Int)? {
    guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
        let t = o["t"] as? Double, let prefix = o["prefix"] as? Int
    else { return nil }
    return (t, prefix, o["wanted"] as? Int ?? 0)
}

@MainActor func baselineRun(seeders: [LibtorrentSeeder], round: Int) async throws -> Figures {
    var args = [Fixtures.seederScript, "leech", "--torrent-in", dir.path + "/film.torrent", "--save", dir.sub("base-\(round)")]
    for s in seeders { args += ["--peer", s.peer] }
    let t0 = now()
    let p = try TestProcess("/usr/bin/python3", args, name: "sequential leecher")
    defer { p.kill() }
    let pieces = (size + piece - 1) / piece
    if config.seederLeavesAt != nil {
        let startPieces = (initialBytes + piece - 1) / piece
        let started = try await p.waitForLine(timeout: .seconds(600)) { line in
            leechLine(line).flatMap { $0.prefix >= startPieces ? $0.t : nil }
        }
        scheduleSeederLeaving(seeders, playbackStartedAt: started)
    }
    _ = try await p.waitForLine(timeout: .seconds(600)) { line in leechLine(line).flatMap { $0.prefix >= pieces ? true : nil } }
    return figures(timeline: p.lines.compactMap(leechLine).map { ($0.t, $0.prefix) }, t0: t0)
}

// MARK: qBittorrent

/// qbittorrent-nox with sequential download and first/last piece priority,
/// driven through its Web API: the torrent added, the seeders given as
/// peers, its piece states polled every 50 ms into a timeline. Its peak
/// memory (VmHWM) is read once the file is in.
@MainActor func qbittorrentRun(seeders: [LibtorrentSeeder], round: Int) async throws -> Figures {
    let profile = dir.sub("qbt-\(round)")
    let webPort = Ports.free()
    try FileManager.default.createDirectory(atPath: profile + "/qBittorrent/config", withIntermediateDirectories: true)
    // Loopback peers only: no DHT, PeX or LSD; TCP only, like the others; and
    // more than one connection per IP, or it keeps one of the four seeders.
    try """
    [LegalNotice]
    Accepted=true

    [Preferences]
    WebUI\\Port=\(webPort)
    WebUI\\Address=127.0.0.1
    WebUI\\LocalHostAuth=false
    WebUI\\CSRFProtection=false
    WebUI\\HostHeaderValidation=false

    [BitTorrent]
    Session\\DHTEnabled=false
    Session\\PeXEnabled=false
    Session\\LSDEnabled=false
    Session\\BTProtocol=TCP
    Session\\Port=\(Ports.free())
    Session\\QueueingSystemEnabled=false
    Session\\MultiConnectionsPerIp=true
    """.write(toFile: profile + "/qBittorrent/config/qBittorrent.conf", atomically: true, encoding: .utf8)
    let api = "http://127.0.0.1:\(webPort)/api/v2"
    let t0 = now()
    let p = try TestProcess("/usr/bin/qbittorrent-nox", ["--profile=" + profile], name: "qbittorrent-nox")
    defer { p.kill() }
    var up = false
    for _ in 0..<400 where !up {
        up = (try? await HTTP.request(api + "/app/webapiVersion", timeout: 2))?.status == 200
        if !up { try await Task.sleep(for: .milliseconds(25)) }
    }
    guard up else { throw TestFailure("qbittorrent-nox's Web API did not come up: \(p.stderr.suffix(2000))") }
    // multipart/form-data: the .torrent and the options.
    let boundary = "matinee-bench-boundary"
    var body = [UInt8]()
    func field(_ name: String, _ value: String) {
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
    }
    body += Array(
        "--\(boundary)\r\nContent-Disposition: form-data; name=\"torrents\"; filename=\"film.torrent\"\r\nContent-Type: application/x-bittorrent\r\n\r\n"
            .utf8)
    body += Array(try Data(contentsOf: URL(fileURLWithPath: dir.path + "/film.torrent")))
    body += Array("\r\n".utf8)
    field("savepath", dir.sub("qbt-dl-\(round)"))
    field("sequentialDownload", "true")
    field("firstLastPiecePrio", "true")
    body += Array("--\(boundary)--\r\n".utf8)
    let added = try await HTTP.request(
        api + "/torrents/add", method: "POST", headers: ["Content-Type": "multipart/form-data; boundary=\(boundary)"], body: body)
    guard added.status == 200 else { throw TestFailure("qBittorrent refused the torrent: \(added.status)") }
    var hash = ""
    for _ in 0..<200 where hash.isEmpty {
        let info = try await HTTP.request(api + "/torrents/info")
        hash = ((try? JSONSerialization.jsonObject(with: Data(info.body))) as? [[String: Any]])?.first?["hash"] as? String ?? ""
        if hash.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
    }
    let peers = seeders.map(\.peer).joined(separator: "|")
    _ = try await HTTP.request(
        api + "/torrents/addPeers", method: "POST", headers: ["Content-Type": "application/x-www-form-urlencoded"],
        body: Array("hashes=\(hash)&peers=\(peers)".utf8))
    let pieces = (size + piece - 1) / piece
    let startPieces = (initialBytes + piece - 1) / piece
    var timeline: [(t: Double, prefix: Int)] = []
    var prefix = 0
    let deadline = now() + 600
    while prefix < pieces {
        guard now() < deadline else { throw TestFailure("qBittorrent did not finish in 600 s (\(prefix) of \(pieces) pieces)") }
        let r = try await HTTP.request(api + "/torrents/pieceStates?hash=\(hash)")
        let states = ((try? JSONSerialization.jsonObject(with: Data(r.body))) as? [Int]) ?? []
        let t = now()
        let next = states.firstIndex { $0 != 2 } ?? states.count
        if next > prefix {
            if prefix < startPieces, next >= startPieces { scheduleSeederLeaving(seeders, playbackStartedAt: t) }
            prefix = next
            timeline.append((t, prefix))
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    var f = figures(timeline: timeline, t0: t0)
    f.peakMiB = peakMiB(pid: p.process.processIdentifier)
    return f
}

/// A process's peak resident memory (VmHWM), in MiB.
func peakMiB(pid: Int32) -> Double {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
        let kib = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return .nan }
    return kib / 1024
}

/// Matinee serving the whole file to one request read as fast as it comes:
/// seconds from launch, and the process's peak resident memory (VmHWM).
@MainActor func wholeFileRun(seeders: [LibtorrentSeeder], round: Int) async throws -> Figures {
    let (p, url, t0) = try await launchMatinee("whole-\(round)", seeders: seeders)
    defer { p.kill() }
    let r = try await HTTP.request(url, headers: ["Range": "bytes=0-"], timeout: 600)
    guard r.body.count == size else { throw TestFailure("short whole-file read: \(r.body.count) of \(size)") }
    var f = Figures()
    f.whole = now() - t0
    f.peakMiB = peakMiB(pid: p.process.processIdentifier)
    return f
}

/// A libtorrent leecher started fresh for the pieces covering `bytes`:
/// `only` wants those pieces and nothing else (the practical floor, for a
/// start or a seek); `deadline` wants the whole file with deadlines on them,
/// as a libtorrent streaming client sets them for a seek. Seconds from
/// launch until they are all in.
@MainActor func rangeRun(seeders: [LibtorrentSeeder], label: String, bytes: Range<Int>, mode: String) async throws -> Double {
    let first = bytes.lowerBound / piece
    let n = (bytes.upperBound - 1) / piece - first + 1
    var args = [
        Fixtures.seederScript, "leech", "--torrent-in", dir.path + "/film.torrent", "--save", dir.sub("\(mode)-\(label)"),
        "--\(mode)", "\(first):\(n)",
    ]
    for s in seeders { args += ["--peer", s.peer] }
    let t0 = now()
    let p = try TestProcess("/usr/bin/python3", args, name: "\(mode) leecher")
    defer { p.kill() }
    let t = try await p.waitForLine(timeout: .seconds(300)) { line in leechLine(line).flatMap { $0.wanted >= n ? $0.t : nil } }
    return t - t0
}

/// Matinee launched fresh and asked at once for `bytes`: seconds from
/// launch until they are read.
@MainActor func matineeFreshRead(seeders: [LibtorrentSeeder], label: String, bytes: Range<Int>) async throws -> Double {
    let (p, url, t0) = try await launchMatinee(label, seeders: seeders)
    defer { p.kill() }
    let r = try await HTTP.request(url, headers: ["Range": "bytes=\(bytes.lowerBound)-\(bytes.upperBound - 1)"], timeout: 300)
    guard r.body.count == bytes.count else { throw TestFailure("short read at \(bytes.lowerBound): \(r.body.count) bytes") }
    return now() - t0
}

// MARK: Run

var ours: [Figures] = []
var theirs: [Figures] = []
var qbts: [Figures] = []
var stallsOurs: [Figures] = []
var mmapOurs: [Figures] = []
var floors: [Double] = []
var wholeOurs: [Figures] = []
let seekPercents = [25, 50, 75]
/// Per seek percentage: Matinee fresh, libtorrent with deadlines, the floor.
var freshSeeks = [[Double]](repeating: [], count: seekPercents.count)
var deadlineSeeks = [[Double]](repeating: [], count: seekPercents.count)
var floorSeeks = [[Double]](repeating: [], count: seekPercents.count)
if config.qbittorrent, !FileManager.default.isExecutableFile(atPath: "/usr/bin/qbittorrent-nox") {
    log("qbittorrent-nox is not installed: apt-get install qbittorrent-nox, or pass --no-qbittorrent")
    exit(2)
}
for round in 0..<config.rounds {
    // Fresh seeders per run, so every client starts from the same swarm state.
    if !config.stallsOnly {
        log("round \(round + 1): matinee (start and seeks)")
        let s = try await startSeeders()
        ours.append(try await matineeRun(seeders: s, round: round, measureStalls: false))
        log("round \(round + 1): the floor (a libtorrent leecher wanting only the first 4 MiB)")
        floors.append(try await rangeRun(seeders: try await startSeeders(), label: "start-\(round)", bytes: 0..<(4 << 20), mode: "only"))
        for (i, pct) in seekPercents.enumerated() {
            let offset = size / 100 * pct
            let bytes = offset..<min(size, offset + (1 << 20))
            log("round \(round + 1): a fresh seek to \(pct)%: matinee, libtorrent with deadlines, the floor")
            freshSeeks[i].append(try await matineeFreshRead(seeders: try await startSeeders(), label: "seek\(pct)-\(round)", bytes: bytes))
            deadlineSeeks[i].append(
                try await rangeRun(seeders: try await startSeeders(), label: "seek\(pct)-\(round)", bytes: bytes, mode: "deadline"))
            floorSeeks[i].append(
                try await rangeRun(seeders: try await startSeeders(), label: "seek\(pct)-\(round)", bytes: bytes, mode: "only"))
        }
    }
    log("round \(round + 1): matinee (player \(config.vbrSeconds == nil ? "at a fixed bitrate" : "at the video's packet times"))")
    do {
        let s = try await startSeeders()
        stallsOurs.append(try await matineeRun(seeders: s, round: round, measureStalls: true))
    }
    if config.wholeFile {
        log("round \(round + 1): matinee (the whole file)")
        wholeOurs.append(try await wholeFileRun(seeders: try await startSeeders(), round: round))
    }
    if config.compareDiskIO {
        log("round \(round + 1): matinee on libtorrent's mmap disk I/O (start and seeks)")
        let s = try await startSeeders()
        mmapOurs.append(try await matineeRun(seeders: s, round: round, measureStalls: false, diskIO: "mmap"))
    }
    if config.baseline {
        log("round \(round + 1): libtorrent sequential baseline")
        theirs.append(try await baselineRun(seeders: try await startSeeders(), round: round))
        if config.qbittorrent {
            log("round \(round + 1): qBittorrent (sequential download, first and last pieces first)")
            qbts.append(try await qbittorrentRun(seeders: try await startSeeders(), round: round))
        }
    }
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? .nan : s[s.count / 2]
}

/// "median (min-max)" over the rounds.
func spread(_ xs: [Double]) -> String {
    if xs.isEmpty { return "-" }
    let m = String(format: "%.2f", median(xs))
    guard xs.count > 1, let lo = xs.min(), let hi = xs.max() else { return m }
    return m + String(format: " (%.2f-%.2f)", lo, hi)
}

/// b / a of the medians.
func ratio(_ a: [Double], _ b: [Double]) -> String {
    if a.isEmpty || b.isEmpty { return "-" }
    let (ma, mb) = (median(a), median(b))
    return ma == 0 && mb == 0 ? "-" : ma > 0 ? String(format: "%.2fx", mb / ma) : "inf"
}

/// A table row: Matinee's figures, each contender's, and each contender's
/// median over Matinee's.
func row(_ name: String, _ a: [Double], _ others: [[Double]]) -> String {
    "| \(name) | \(spread(a)) | " + others.map(spread).joined(separator: " | ") + " | "
        + others.map { ratio(a, $0) }.joined(separator: " / ") + " |"
}

print(
    """
    | metric (median of \(config.rounds), min-max) | matinee | libtorrent sequential | qBittorrent sequential + first/last | libtorrent / matinee, qBittorrent / matinee |
    |---|---|---|---|---|
    """)
if !config.stallsOnly {
    print(row("first 4 MiB at offset 0 (s)", ours.map(\.start), [theirs.map(\.start), qbts.map(\.start)]))
    for (i, pct) in seekPercents.enumerated() {
        print(
            row("first byte after seek to \(pct)% (s)", ours.map { $0.seeks[i] }, [theirs.map { $0.seeks[i] }, qbts.map { $0.seeks[i] }]))
    }
}
if config.wholeFile {
    print(row("whole file, read as fast as it comes (s)", wholeOurs.map(\.whole), [theirs.map(\.whole), qbts.map(\.whole)]))
    print(row("peak memory (VmHWM, MiB; matinee serving the whole file)", wholeOurs.map(\.peakMiB), [[], qbts.map(\.peakMiB)]))
}
print(
    row(
        "stalls at \(config.bitrateKiBps) KiB/s (count)", stallsOurs.map { Double($0.stalls) },
        [theirs.map { Double($0.stalls) }, qbts.map { Double($0.stalls) }]))
print(row("time stalled (s)", stallsOurs.map(\.stallSeconds), [theirs.map(\.stallSeconds), qbts.map(\.stallSeconds)]))
let content = playback.time(atByte: Double(size))
func share(_ fs: [Figures]) -> [Double] { fs.map { 100 * $0.stallSeconds / content } }
print(row("share of playback stalled (%)", share(stallsOurs), [share(theirs), share(qbts)]))
if !config.stallsOnly {
    let capacitySeconds = Double(4 << 20) / Double((config.seeders * config.seederKiBps) << 10)
    print(
        """

        | from launch (median of \(config.rounds), min-max) | matinee | libtorrent with deadlines on those pieces | the floor: a libtorrent leecher wanting only them | deadlines / matinee, floor / matinee |
        |---|---|---|---|---|
        """)
    print(
        row("first 4 MiB at offset 0 (s); bytes / capacity \(String(format: "%.2f", capacitySeconds)) s", ours.map(\.start), [[], floors]))
    for (i, pct) in seekPercents.enumerated() {
        print(row("first 1 MiB at \(pct)%, fresh process (s)", freshSeeks[i], [deadlineSeeks[i], floorSeeks[i]]))
    }
}
print("")
let capacity = config.seeders * config.seederKiBps
print(
    "swarm: \(config.seeders) seeders x \(config.seederKiBps) KiB/s = \(capacity) KiB/s; file \(config.fileMiB) MiB (\(String(format: "%.0f", content)) s of playback), \(config.pieceKiB) KiB pieces; reader \(config.bitrateKiBps) KiB/s (\(String(format: "%.2f", Double(config.bitrateKiBps) / Double(capacity)))x capacity), starts with \(config.initialSeconds) s in, reads at most \(config.bufferSeconds) s ahead"
)

if config.compareDiskIO {
    print(
        """

        | metric (median of \(config.rounds), min-max) | matinee, POSIX disk I/O | matinee, mmap disk I/O | mmap / POSIX |
        |---|---|---|---|
        """)
    print(row("first 4 MiB at offset 0 (s)", ours.map(\.start), [mmapOurs.map(\.start)]))
    for (i, pct) in seekPercents.enumerated() {
        print(row("first byte after seek to \(pct)% (s)", ours.map { $0.seeks[i] }, [mmapOurs.map { $0.seeks[i] }]))
    }
}
