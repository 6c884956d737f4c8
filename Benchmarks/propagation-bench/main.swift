// How fast a new catalog version reaches a channel's subscribers.
//
// Many subscribers (libtorrent sessions in this one process, each with its
// own catalog database, as many daemons would have) follow one channel on a
// private DHT on loopback (python3-libtorrent nodes plus the subscribers
// themselves). All hold version 1. The publisher then puts version 2 and
// seeds it until the first subscriber has it, and goes offline. Each
// subscriber refreshes as the daemon does (RefreshSchedule: its phase in the
// interval is random, as for daemons started at unrelated times; waits vary
// by the jitter; a new version is put back on the DHT at once) and the
// harness records when each accepted version 2: the times until 50%, 95% and
// 100% have it. In the same run the same subscribers follow a second channel
// under the old policy (a refresh every hour, no jitter, no re-put on
// receipt), published the same way, for the side-by-side figures.
//
// This is a harness, not a test: figures go to docs/benchmarks.md.
import Catalog
import Crypto
import Foundation
import Synchronization
import TestSupport
import TorrentKit

struct Config {
    var subscribers = 100
    var dhtNodes = 16
    /// Divide the daemon's intervals by this (1: real time).
    var speedup = 1.0
}

var parsed = Config()
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    func value() -> Double { Double(args.popFirst() ?? "") ?? 0 }
    switch a {
    case "--subscribers": parsed.subscribers = Int(value())
    case "--dht-nodes": parsed.dhtNodes = Int(value())
    case "--speedup": parsed.speedup = min(max(1, value()), 16)
    case "-h", "--help":
        print(
            """
            usage: propagation-bench [--subscribers N] [--dht-nodes N] [--speedup K]
            N subscribers (default 100) follow a channel on a loopback DHT of N python3-libtorrent
            nodes (default 16); a new version is published, its publisher goes offline once one
            subscriber has it, and the times until 50%, 95% and 100% have it are printed, with the
            daemon's refresh policy (its intervals divided by K, at most 16; default 1: real time, and
            about 90 minutes for the old hourly policy beside it). "At real intervals" scales the
            schedule's part of each arrival back up and keeps the measured lookup and download time.
            """)
        exit(0)
    default:
        FileHandle.standardError.write(Data("unknown argument \(a); see --help\n".utf8))
        exit(2)
    }
}

let config = parsed

func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

let daemon = RefreshSchedule.daemon
let schedule = RefreshSchedule(
    interval: daemon.interval / config.speedup, jitter: daemon.jitter, republishInterval: daemon.republishInterval / config.speedup)
let dir = TempDir("propagation")
let dht = try await PrivateDHT.start(count: config.dhtNodes)
let dhtNodes = dht.nodes.compactMap(HostPort.init)

func session() async throws -> TorrentSession {
    var c = SessionConfiguration()
    c.listenInterfaces = [HostPort(host: "127.0.0.1", port: 0)]
    c.dhtNodes = dhtNodes
    c.enableLSD = false
    return try await TorrentSession.start(c)
}

/// A channel under test and the refresh policy its subscribers follow.
struct Channel: Sendable {
    let name: String
    let key: Curve25519.Signing.PrivateKey
    let schedule: RefreshSchedule
    let reputOnReceipt: Bool
    var publicKey: [UInt8] { Array(key.publicKey.rawRepresentation) }
    var address: ChannelAddress { ChannelAddress(publicKey: publicKey)! }
}

let hourly = RefreshSchedule(
    interval: .seconds(3600) / config.speedup, jitter: 0, republishInterval: daemon.republishInterval / config.speedup)
let channels = [
    Channel(name: "daemon policy", key: Curve25519.Signing.PrivateKey(), schedule: schedule, reputOnReceipt: true),
    Channel(name: "old policy", key: Curve25519.Signing.PrivateKey(), schedule: hourly, reputOnReceipt: false),
]

/// Writes, seeds and points `channel` at catalog version `seq`.
func publish(_ channel: Channel, _ seq: Int64, from seeder: TorrentSession) async throws -> Int {
    var film = CatalogDocument.Title(id: "film-\(seq)", kind: .movie, title: "Film \(seq)")
    film.year = 2000
    film.sources = [CatalogDocument.Source(infohash: String(repeating: "ab", count: 20), file: 0, size: 1)]
    let doc = CatalogDocument(
        channel: .init(key: Hex.encode(channel.publicKey), name: channel.name), sequence: seq, issued: Date(),
        expires: Date().addingTimeInterval(86400), titles: [film])
    let body = try doc.encoded()
    let root = dir.path + "/publisher/\(channel.address.hex)/\(seq)"
    let folder = root + "/" + ChannelResolver.folderName
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try Data(body).write(to: URL(fileURLWithPath: folder + "/catalog.json"))
    try Data(try CatalogSignature.sign(body, with: channel.key)).write(to: URL(fileURLWithPath: folder + "/catalog.sig"))
    var o = AddTorrentOptions(source: .torrentFile(try await TorrentMaker.make(path: folder)), savePath: root)
    o.streaming = false
    o.seedMode = true
    let t = try await seeder.add(o)
    t.announce()
    return await seeder.dhtPut(try ChannelPointer.item(pointingAt: t.id, sequence: seq, key: channel.key))
}

struct Subscriber: Sendable {
    let session: TorrentSession
    let store: CatalogStore
    let resolver: ChannelResolver
}

// One publisher per channel: each goes offline on its own.
var publishers: [TorrentSession] = []
for c in channels {
    let p = try await session()
    for _ in 0..<100 where await p.dhtNodeCount() == 0 { try await Task.sleep(for: .milliseconds(100)) }
    log("\(c.name): version 1 put on \(try await publish(c, 1, from: p)) DHT nodes")
    publishers.append(p)
}

// Subscribers, each following the channel at version 1 (a few at a time).
let started = ContinuousClock.now
var subscribers: [Subscriber] = []
for batch in stride(from: 0, to: config.subscribers, by: 10) {
    let made = try await withThrowingTaskGroup(of: Subscriber.self) { group in
        for i in batch..<min(batch + 10, config.subscribers) {
            group.addTask {
                let s = try await session()
                let store = try CatalogStore(path: dir.path + "/sub\(i).sqlite")
                var r = ChannelResolver(session: s, store: store, channelsDir: dir.path + "/sub\(i)")
                r.lookupBudget = .seconds(60)
                r.downloadTimeout = .seconds(60)
                for c in channels {
                    try await store.addChannel(key: c.address.hex, name: c.address.short, address: c.address.magnet)
                    _ = try await r.refresh(c.address)
                }
                return Subscriber(session: s, store: store, resolver: r)
            }
        }
        var out: [Subscriber] = []
        for try await s in group { out.append(s) }
        return out
    }
    subscribers += made
    log("\(subscribers.count) subscribers hold version 1")
}
log("set-up: \(Int(seconds(ContinuousClock.now - started))) s")

/// When each subscriber got version 2, how long the refresh that found it
/// took, and when the publisher went offline.
final class Record: Sendable {
    let arrivals = Mutex<[Double]>([])
    let refreshes = Mutex<[Double]>([])
    /// Per subscriber: when the refresh that found version 2 began (a time
    /// the schedule set, scaled) and how long it took (network time, not).
    let found = Mutex<[(began: Double, took: Double)]>([])
    let publisherOff = Mutex<Double?>(nil)
    /// Refreshes that did not bring version 2, by outcome.
    let misses = Mutex<[String: Int]>([:])
}

/// Publishes version 2 of `channel` and follows it until every subscriber
/// has it (or 1.5 intervals pass). Times count from the end of the put.
func measure(_ channel: Channel, publisher: TorrentSession, subscribers: [Subscriber]) async -> Record {
    let record = Record()
    let nodes = (try? await publish(channel, 2, from: publisher)) ?? 0
    let t0 = ContinuousClock.now
    log(
        "\(channel.name): version 2 put on \(nodes) DHT nodes; refresh every \(seconds(channel.schedule.interval)) s +/- \(Int(channel.schedule.jitter * 100))%"
    )
    let cap = channel.schedule.interval * 1.5
    let address = channel.address
    await withTaskGroup(of: Void.self) { group in
        for sub in subscribers {
            group.addTask {
                // Daemons started at unrelated times: a random phase in the interval.
                try? await Task.sleep(for: channel.schedule.interval * Double.random(in: 0..<1))
                while ContinuousClock.now - t0 < cap {
                    let began = ContinuousClock.now
                    let outcome: ChannelResolver.Outcome?
                    do {
                        outcome = try await sub.resolver.refresh(address)
                    } catch {
                        outcome = nil
                        let why = (error as? CatalogError)?.message ?? "\(error)"
                        record.misses.withLock { $0[String(why.prefix(90)), default: 0] += 1 }
                    }
                    if case .unchanged? = outcome { record.misses.withLock { $0["still version 1", default: 0] += 1 } }
                    if case .updated(2, _)? = outcome {
                        record.arrivals.withLock { $0.append(seconds(ContinuousClock.now - t0)) }
                        record.refreshes.withLock { $0.append(seconds(ContinuousClock.now - began)) }
                        record.found.withLock { $0.append((seconds(began - t0), seconds(ContinuousClock.now - began))) }
                        if channel.reputOnReceipt, let c = try? await sub.store.channel(address.hex), let v = c.pointerValue,
                            let sig = c.pointerSignature, let seq = c.pointerSequence
                        {
                            _ = await sub.session.dhtPut(
                                DHTMutableItem(
                                    publicKey: channel.publicKey, salt: [], sequence: seq, value: Array(v), signature: Array(sig)))
                        }
                        return
                    }
                    try? await Task.sleep(for: channel.schedule.nextRefresh(unit: .random(in: 0..<1)))
                }
            }
        }
        group.addTask {
            // The publisher goes offline once one subscriber has version 2.
            while record.arrivals.withLock({ $0.isEmpty }), ContinuousClock.now - t0 < cap {
                try? await Task.sleep(for: .milliseconds(200))
            }
            await publisher.shutdown()
            record.publisherOff.withLock { $0 = seconds(ContinuousClock.now - t0) }
        }
        group.addTask {
            var last = -1
            while ContinuousClock.now - t0 < cap {
                try? await Task.sleep(for: .seconds(15))
                let n = record.arrivals.withLock { $0.count }
                if n != last || Int(seconds(ContinuousClock.now - t0)) % 60 < 15 {
                    let misses = record.misses.withLock { $0 }.sorted { $0.value > $1.value }.prefix(3).map { "\($0.value)x \($0.key)" }
                    log(
                        "\(channel.name): \(Int(seconds(ContinuousClock.now - t0))) s: \(n)/\(config.subscribers) have version 2; misses: \(misses.joined(separator: "; "))"
                    )
                }
                last = n
                if n == config.subscribers { return }
            }
        }
        await group.waitForAll()
    }
    return record
}

let following = subscribers
let records = await withTaskGroup(of: (Int, Record).self) { group in
    for (i, (c, p)) in zip(channels, publishers).enumerated() {
        group.addTask { (i, await measure(c, publisher: p, subscribers: following)) }
    }
    var out: [Int: Record] = [:]
    for await (i, r) in group { out[i] = r }
    return channels.indices.map { out[$0]! }
}

let n = config.subscribers
func f(_ s: Double?) -> String { s.map { String(format: "%.1f s", $0) } ?? "-" }
func minutes(_ s: Double?) -> String { s.map { String(format: "%.1f min", $0 / 60) } ?? "-" }
/// The time by which a share `p` of all subscribers had version 2.
func quantile(_ times: [Double], _ p: Double) -> Double? {
    let need = Int((p * Double(n)).rounded(.up))
    return need > 0 && need <= times.count ? times[need - 1] : nil
}
print(
    "propagation of a new catalog version: \(n) subscribers, \(config.dhtNodes) python DHT nodes on loopback, intervals divided by \(config.speedup)"
)
for (c, r) in zip(channels, records) {
    let times = r.arrivals.withLock { $0.sorted() }
    let took = r.refreshes.withLock { $0.sorted() }
    // At the daemon's real intervals: the schedule's part scaled back up,
    // the lookup and download as measured.
    let real = r.found.withLock { $0.map { $0.began * config.speedup + $0.took }.sorted() }
    print(
        """

        \(c.name): refresh every \(f(seconds(c.schedule.interval))) +/- \(Int(c.schedule.jitter * 100))% (\(minutes(seconds(c.schedule.interval) * config.speedup)) at real intervals), \(c.reputOnReceipt ? "re-put on receipt" : "no re-put on receipt")
          publisher offline after \(f(r.publisherOff.withLock { $0 })); the refresh that found version 2 took median \(f(took.isEmpty ? nil : took[took.count / 2])), at most \(f(took.last))
          measured:           50% \(f(quantile(times, 0.5)))   95% \(f(quantile(times, 0.95)))   100% \(f(quantile(times, 1)))   [\(times.count)/\(n) had it]
          at real intervals:  50% \(minutes(quantile(real, 0.5)))   95% \(minutes(quantile(real, 0.95)))   100% \(minutes(quantile(real, 1)))
        """)
}
for s in following { await s.session.shutdown() }
dht.process.kill()
try? FileManager.default.removeItem(atPath: dir.path)
