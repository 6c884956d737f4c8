import Foundation

/// Channel names as people see them. Anyone can publish a channel under any
/// name, so a name alone proves nothing: a channel whose name another
/// followed channel also has, or that takes the bundled channel's name
/// without its key, is shown with the start of its address beside it
/// ("Open Films (mk3q7z2a)"), and commands refuse a name that fits more
/// than one channel.
public enum ChannelNames {
    /// What a display name depends on.
    public struct Naming: Sendable, Equatable {
        public var key: String
        public var name: String
        public var address: String
        public var isLocal: Bool
    }

    /// Display names by channel key.
    public static func display(_ channels: [CatalogStore.Channel]) -> [String: String] {
        display(channels.map { Naming(key: $0.key, name: $0.name, address: $0.address, isLocal: $0.isLocal) })
    }

    public static func display(_ channels: [Naming]) -> [String: String] {
        var count: [String: Int] = [:]
        for c in channels { count[comparable(c.name), default: 0] += 1 }
        let reserved = comparable(BundledChannel.name)
        var out: [String: String] = [:]
        for c in channels {
            let k = comparable(c.name)
            let clash = count[k, default: 0] > 1 || (k == reserved && !c.isLocal)
            out[c.key] = clash && !c.isLocal ? "\(c.name) (\(shortKey(c)))" : c.name
        }
        return out
    }

    /// The first characters of a channel's address (what `matinee:` shows).
    public static func shortKey(_ c: CatalogStore.Channel) -> String {
        shortKey(Naming(key: c.key, name: c.name, address: c.address, isLocal: c.isLocal))
    }

    static func shortKey(_ c: Naming) -> String {
        guard let a = ChannelAddress(c.address) else { return String(c.key.prefix(8)) }
        return String(a.short.dropFirst("matinee:".count).prefix(8))
    }

    /// Names that read alike compare equal: Unicode compatibility forms,
    /// case and runs of spaces do not tell channels apart.
    public static func comparable(_ name: String) -> String {
        name.precomposedStringWithCompatibilityMapping.lowercased()
            .split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}
