import Foundation

/// Matinee installed for one user (docs/release-format.md §5):
///
///   <root>/versions/<build>/   one bundle each: VERSION, BUILD, bin/, launcher
///   <root>/current             symlink to versions/<build>: switched by one rename
///   <root>/previous            symlink to the version before it (kept)
///   <root>/launcher            what ~/.local/bin/matinee links to: runs current,
///                              and rolls a version on trial back after 3 starts
///                              that never ended healthy
///   <root>/trial               "<build> <starts>" until that build runs healthy
///
/// The root is the XDG data folder's matinee/ (install.sh's choice); a
/// running binary finds it from its own path.
public struct Installation: Sendable, Equatable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public var versionsDir: String { root + "/versions" }
    public var currentLink: String { root + "/current" }
    public var previousLink: String { root + "/previous" }
    public var trialFile: String { root + "/trial" }
    public func folder(_ build: Int64) -> String { versionsDir + "/\(build)" }

    /// The installation a binary at `executable` belongs to: nil unless it
    /// is <root>/versions/<build>/bin/matinee with a `current` link beside.
    public static func containing(executable: String) -> Installation? {
        let real = URL(fileURLWithPath: executable).resolvingSymlinksInPath().path
        let parts = real.split(separator: "/").map(String.init)
        guard parts.count >= 5, parts[parts.count - 2] == "bin", Int64(parts[parts.count - 3]) != nil,
            parts[parts.count - 4] == "versions"
        else { return nil }
        let root = "/" + parts.dropLast(4).joined(separator: "/")
        var st = stat()
        guard lstat(root + "/current", &st) == 0, st.st_mode & S_IFMT == S_IFLNK else { return nil }
        return Installation(root: root)
    }

    public static var running: Installation? { containing(executable: RunningBinary.path) }

    public var current: Int64? { linkedBuild(currentLink) }
    public var previous: Int64? { linkedBuild(previousLink) }

    private func linkedBuild(_ link: String) -> Int64? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link) else { return nil }
        return Int64((target as NSString).lastPathComponent)
    }

    /// The builds on disk, newest first.
    public var builds: [Int64] {
        ((try? FileManager.default.contentsOfDirectory(atPath: versionsDir)) ?? []).compactMap(Int64.init).sorted(by: >)
    }

    public func version(of build: Int64) -> InstalledVersion? { InstalledVersion.read(bundle: folder(build)) }

    /// Moves an extracted and checked bundle folder into versions/<build>
    /// (the same file system: one rename).
    public func add(bundle folder: String, build: Int64) throws {
        let dest = self.folder(build)
        if FileManager.default.fileExists(atPath: dest) {
            guard current != build, previous != build else {
                throw ReleaseError(.install, "build \(build) is already installed")
            }
            try? FileManager.default.removeItem(atPath: dest)
        }
        guard rename(folder, dest) == 0 else {
            throw ReleaseError(.install, "cannot move the new version into \(dest): \(String(cString: strerror(errno)))")
        }
    }

    /// Makes `build` current in one atomic rename; the version it replaces
    /// becomes `previous`. With `trial`, the launcher watches its first starts.
    public func switchTo(_ build: Int64, trial: Bool) throws {
        guard FileManager.default.fileExists(atPath: folder(build) + "/bin/matinee") else {
            throw ReleaseError(.install, "build \(build) is not installed")
        }
        let old = current
        if trial {
            try Self.writeAtomically(Array("\(build) 0\n".utf8), to: trialFile)
        } else {
            unlink(trialFile)
        }
        if let old, old != build { try relink(previousLink, to: old) }
        try relink(currentLink, to: build)
    }

    /// `<root>/launcher`: what ~/.local/bin/matinee links to.
    public var launcher: String { root + "/launcher" }

    /// Takes a bundle's launcher as the one ~/.local/bin/matinee runs (one
    /// rename); a bundle without one leaves the launcher as it is.
    public func updateLauncher(from bundle: String) {
        guard let bytes = FileManager.default.contents(atPath: bundle + "/launcher"), bytes.starts(with: Data("#!".utf8)) else { return }
        try? Self.writeAtomically(Array(bytes), to: launcher, mode: 0o755)
    }

    /// Switches back to `previous`; the build left is returned (to be marked
    /// refused by the caller, who owns that record).
    public func rollBack() throws -> (from: Int64, to: Int64) {
        guard let from = current, let to = previous, to != from, FileManager.default.fileExists(atPath: folder(to) + "/bin/matinee") else {
            throw ReleaseError(.install, "there is no previous version to go back to")
        }
        unlink(trialFile)
        try relink(currentLink, to: to)
        // The refused build stays `previous` no longer: the older one is kept
        // as the fallback should this one ever be left too.
        if let older = builds.first(where: { $0 < to }) { try relink(previousLink, to: older) } else { unlink(previousLink) }
        return (from, to)
    }

    /// The build on trial and how often the launcher started it so far.
    public var trial: (build: Int64, starts: Int)? {
        guard let text = try? String(contentsOfFile: trialFile, encoding: .utf8) else { return nil }
        let f = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard f.count == 2, let b = Int64(f[0]), let n = Int(f[1]) else { return nil }
        return (b, n)
    }

    /// Called once `build` started healthy (its daemon up, or a command
    /// done with status 0): its trial is over.
    public func confirmHealthy(_ build: Int64) {
        if trial?.build == build { unlink(trialFile) }
    }

    /// Removes versions other than current and previous, oldest first,
    /// keeping `keep` in all.
    public func prune(keep: Int = 3) {
        let pinned = Set([current, previous].compactMap { $0 })
        var kept = pinned.count
        for b in builds where !pinned.contains(b) {
            if kept < keep {
                kept += 1
                continue
            }
            try? FileManager.default.removeItem(atPath: folder(b))
        }
    }

    private func relink(_ link: String, to build: Int64) throws {
        let tmp = link + ".new-\(getpid())"
        unlink(tmp)
        guard symlink("versions/\(build)", tmp) == 0, rename(tmp, link) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw ReleaseError(.install, "cannot switch \(link) to build \(build): \(reason)")
        }
    }

    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ReleaseError(.install, "cannot write \(path): \(String(cString: strerror(errno)))") }
        let ok = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count && fsync(fd) == 0
        close(fd)
        guard ok, rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw ReleaseError(.install, "cannot write \(path): \(reason)")
        }
    }
}

/// The running executable's real path.
public enum RunningBinary {
    public static var path: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

extension InstalledVersion {
    /// What a binary built from this tree calls itself outside a bundle.
    public static let development = InstalledVersion(version: "0.1.0", build: 0)

    /// The version of the running binary: its bundle's VERSION and BUILD
    /// (bin/../VERSION), so that one build packaged as several versions
    /// reports each; a development build otherwise.
    public static let running: InstalledVersion = {
        let bundle = ((RunningBinary.path as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        return read(bundle: bundle) ?? development
    }()

    public var isDevelopment: Bool { build == 0 }

    /// A bundle folder's VERSION ("X.Y.Z") and BUILD (a number).
    public static func read(bundle: String) -> InstalledVersion? {
        func line(_ name: String) -> String? {
            guard let d = FileManager.default.contents(atPath: bundle + "/" + name), d.count < 100 else { return nil }
            return String(decoding: d, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let v = line("VERSION"), ReleaseVersion(v) != nil, let b = line("BUILD").flatMap(Int64.init), b > 0 else { return nil }
        return InstalledVersion(version: v, build: b)
    }
}
