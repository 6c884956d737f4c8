import Foundation

/// Finding renderers: an SSDP search, then each answer's description read,
/// and at the same time an mDNS search for Chromecasts.
public enum RendererDiscovery {
    /// The renderers that answered within `timeout` seconds, by name. A
    /// device whose description cannot be read or is not a renderer is left
    /// out (`skipped` says why, for logs).
    public static func discover(timeout: Double = 2) async -> (renderers: [Renderer], skipped: [String]) {
        async let chromecasts = MDNS.findChromecasts(timeout: timeout)
        let answers = await SSDP.search(timeout: timeout)
        var renderers: [Renderer] = await chromecasts
        var skipped: [String] = []
        await withTaskGroup(of: Result<Renderer, CastError>.self) { group in
            for a in answers.prefix(64) {
                group.addTask {
                    do { return .success(try await RendererClient.describe(a.location)) } catch let e as CastError {
                        return .failure(e)
                    } catch { return .failure(CastError("\(a.location): \(error)")) }
                }
            }
            for await r in group {
                switch r {
                case .success(let renderer): renderers.append(renderer)
                case .failure(let e): skipped.append(e.description)
                }
            }
        }
        var seen = Set<String>()
        let unique = renderers.filter { seen.insert($0.udn.isEmpty ? $0.location.absoluteString : $0.udn).inserted }
        return (unique.sorted { $0.name.localizedCaseInsensitiveCompare($1.name) == .orderedAscending }, skipped)
    }

    /// The renderer `name` names: its exact name, its UDN, or the start of
    /// its name, case aside; nil when none or several fit (`candidates` lists them).
    public static func pick(_ name: String, from renderers: [Renderer]) -> Renderer? {
        let n = name.lowercased()
        if let exact = renderers.first(where: { $0.name.lowercased() == n || $0.udn.lowercased() == n || $0.udn.lowercased() == "uuid:" + n }) {
            return exact
        }
        let starts = renderers.filter { $0.name.lowercased().hasPrefix(n) }
        return starts.count == 1 ? starts[0] : nil
    }
}
