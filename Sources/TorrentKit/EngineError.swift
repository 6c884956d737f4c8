/// An error from the engine, with a message fit to show a user on one line.
public struct EngineError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        case invalidSource, invalidTorrent, unsafePath, engine, listenFailed, io, timedOut, notFound
    }
    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
