import ArgumentParser
import Casting
import Foundation

/// `matinee cast`: the TVs and other UPnP AV renderers on the LAN.
struct Cast: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the TVs and other DLNA/UPnP renderers on your network.",
        discussion: """
            Asks every network interface (SSDP) for media renderers and prints one line each: \
            its name, its model and its address. The name (or its start) is what a cast takes.

            Examples:
              matinee cast --list
              matinee cast --list --json
            """)

    @Flag(name: .long, help: "List the renderers that answer.")
    var list = false

    @Option(
        name: .long, help: ArgumentHelp("Seconds to wait for answers (default: 3).", valueName: "seconds"),
        transform: OptionValue.number)
    var timeout = 3.0

    @Flag(name: .long, help: "Print JSON: name, model, udn, location.")
    var json = false

    func validate() throws {
        guard list else { throw ValidationError("say what to do: matinee cast --list") }
        if !(1...30).contains(timeout) { throw ValidationError("--timeout takes 1 to 30 seconds") }
    }

    func run() async throws {
        try await reportingErrors {
            let n = LocalAddresses.ipv4().count
            Console.info("Looking for renderers on \(n) network interface\(n == 1 ? "" : "s")…")
            let (renderers, skipped) = await RendererDiscovery.discover(timeout: timeout)
            for s in skipped { Console.info("Skipped a device: \(s)") }
            if json {
                let e = JSONEncoder()
                e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                Console.result(String(decoding: try e.encode(renderers), as: UTF8.self))
                return
            }
            if renderers.isEmpty {
                Console.info("No renderer answered. Is the TV on, and on the same network as this machine?")
                return
            }
            for r in renderers {
                Console.result([r.name, r.model.isEmpty ? nil : "(\(r.model))", r.host].compactMap { $0 }.joined(separator: "  "))
            }
        }
    }
}

