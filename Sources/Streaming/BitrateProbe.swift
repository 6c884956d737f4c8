import Foundation

/// Learns a video's bitrate by asking ffprobe about the stream itself (it
/// reads the container's header and index through our own HTTP URL, which
/// the window makes urgent anyway). The result sizes the deadline window in
/// seconds of playback; without it the window assumes 8 Mbit/s.
public enum BitrateProbe {
    /// Bytes per second of playback, or nil if ffprobe is missing, fails, or
    /// takes longer than `timeout`. Runs ffprobe as a child process; the
    /// caller's thread only awaits.
    public static func bytesPerSecond(of url: String, timeout: Duration = .seconds(30)) async -> Int? {
        guard let ffprobe = ["/usr/bin/ffprobe", "/usr/local/bin/ffprobe"].first(where: FileManager.default.isExecutableFile)
        else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ffprobe)
        p.arguments = ["-v", "error", "-probesize", "2000000", "-show_entries", "format=bit_rate,duration,size", "-of", "default=nw=1", url]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        let text: String? = await withCheckedContinuation { (c: CheckedContinuation<String?, Never>) in
            p.terminationHandler = { proc in
                let data = out.fileHandleForReading.readDataToEndOfFile()
                c.resume(returning: proc.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil)
            }
            do {
                try p.run()
            } catch {
                p.terminationHandler = nil
                c.resume(returning: nil)
                return
            }
            let pid = p.processIdentifier
            Task {
                try? await Task.sleep(for: timeout)
                if p.isRunning { kill(pid, SIGKILL) }
            }
        }
        guard let text else { return nil }
        return parse(text)
    }

    /// Reads ffprobe's `key=value` lines: the container's bit_rate, or size
    /// over duration.
    public static func parse(_ text: String) -> Int? {
        var fields = [String: String]()
        for line in text.split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
        }
        if let bits = fields["bit_rate"].flatMap(Double.init), bits > 0 { return Int(bits / 8) }
        if let size = fields["size"].flatMap(Double.init), let d = fields["duration"].flatMap(Double.init), d > 0 {
            return Int(size / d)
        }
        return nil
    }
}
