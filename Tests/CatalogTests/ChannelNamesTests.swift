import Testing
import TorrentKit

@testable import Catalog

@Suite("Channel names as people see them")
struct ChannelNamesTests {
    func channel(_ name: String, key byte: UInt8, local: Bool = false) -> CatalogStore.Channel {
        let key = [UInt8](repeating: byte, count: 32)
        let address = ChannelAddress(publicKey: key)!
        return CatalogStore.Channel(
            key: local ? "local:open-films" : Hex.encode(key), name: name, address: local ? "local:open-films" : address.magnet,
            isLocal: local, highestSequence: 1, addedAt: "2026-01-01T00:00:00Z", titleCount: 1)
    }

    @Test("a unique name is shown alone; two channels of one name both get the start of their address")
    func clashes() {
        let a = channel("Tiny Films", key: 1)
        let b = channel("tiny  films", key: 2)
        let c = channel("Other", key: 3)
        let names = ChannelNames.display([a, b, c])
        #expect(names[c.key] == "Other")
        #expect(names[a.key] == "Tiny Films (\(ChannelNames.shortKey(a)))")
        #expect(names[b.key] == "tiny  films (\(ChannelNames.shortKey(b)))")
        #expect(ChannelNames.shortKey(a).count == 8 && ChannelNames.shortKey(a) != ChannelNames.shortKey(b))
        #expect(ChannelAddress(a.address)!.short.hasPrefix("matinee:" + ChannelNames.shortKey(a)))
    }

    @Test("the bundled channel's name is reserved for it, in any case or compatibility form, even when it was removed")
    func reservedName() {
        let bundled = channel(BundledChannel.name, key: 0, local: true)
        let fake = channel("ＯＰＥＮ ｆｉｌｍｓ", key: 9)
        #expect(ChannelNames.display([bundled, fake])[bundled.key] == BundledChannel.name)
        #expect(ChannelNames.display([bundled, fake])[fake.key] == "ＯＰＥＮ ｆｉｌｍｓ (\(ChannelNames.shortKey(fake)))")
        #expect(ChannelNames.display([fake])[fake.key] == "ＯＰＥＮ ｆｉｌｍｓ (\(ChannelNames.shortKey(fake)))")
    }
}
