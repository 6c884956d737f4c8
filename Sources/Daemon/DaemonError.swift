/// A refusal or failure to show the user as one line: the CLI prints it and
/// exits 1; the HTTP API answers 422 (`badInput`) or 502 with it.
public struct DaemonError: Error, CustomStringConvertible, Sendable {
    public let message: String
    /// The request was wrong (a bad address, no such title), as opposed to
    /// the network or the disk failing us.
    public let badInput: Bool

    public init(_ message: String, badInput: Bool = false) {
        self.message = message
        self.badInput = badInput
    }

    public var description: String { message }
}
