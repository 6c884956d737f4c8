import Foundation
import FuzzTargets

// Built by scripts/fuzz with -sanitize=fuzzer,address and -DFUZZING:
// libFuzzer's main calls this for each input of the target named by
// MATINEE_FUZZ_TARGET. Built normally, it replays files instead
// (`matinee-fuzz TARGET FILE...`), to reproduce a finding.

#if FUZZING
    private let target: String = {
        let name = ProcessInfo.processInfo.environment["MATINEE_FUZZ_TARGET"] ?? ""
        guard FuzzTargets.run(name, []) != nil else {
            fatalError("set MATINEE_FUZZ_TARGET to one of: \(FuzzTargets.names.joined(separator: ", "))")
        }
        return name
    }()

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        if let first = FuzzTargets.run(target, bytes)?.first { fatalError("\(target): \(first)") }
        return 0
    }

    // SwiftPM links an executable's entry point as `<module>_main`; libFuzzer's
    // driver is started from it.
    @_silgen_name("LLVMFuzzerRunDriver")
    func runDriver(
        _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
    ) -> Int32

    @_cdecl("matinee_fuzz_main")
    public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
        var count = argc
        var values = argv
        return runDriver(&count, &values, fuzzOne)
    }
#else
    @main
    struct Replay {
        static func main() {
            let args = Array(CommandLine.arguments.dropFirst())
            guard let name = args.first, FuzzTargets.run(name, []) != nil, args.count > 1 else {
                FileHandle.standardError.write(
                    Data(
                        "usage: matinee-fuzz TARGET FILE... (targets: \(FuzzTargets.names.joined(separator: ", ")))\nscripts/fuzz runs them under libFuzzer.\n"
                            .utf8))
                exit(2)
            }
            var failed = false
            for path in args.dropFirst() {
                guard let data = FileManager.default.contents(atPath: path) else {
                    FileHandle.standardError.write(Data("matinee-fuzz: cannot read \(path)\n".utf8))
                    exit(2)
                }
                for p in FuzzTargets.run(name, Array(data)) ?? [] {
                    print("\(path): \(p)")
                    failed = true
                }
            }
            exit(failed ? 1 : 0)
        }
    }
#endif
