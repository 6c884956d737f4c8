/// Why a catalog, a key or a channel operation was refused: one line a user
/// can act on.
public struct CatalogError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        case invalidAddress, badSignature, malformed, tooLarge, unsafePath, replay, wrongKey
        case unreachable, keyFile, notFound, exists, library, storage
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
