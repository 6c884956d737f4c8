import Foundation
public import Server

/// MATINEE_HOME/settings.json: what the Settings page saved.
public enum SettingsFile {
    public static func load(_ home: Home) -> AppSettings? {
        guard let bytes = Disk.read(home.settingsFile, limit: 64 << 10) else { return nil }
        return try? JSONDecoder().decode(AppSettings.self, from: Data(bytes))
    }

    public static func save(_ settings: AppSettings, _ home: Home) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        try Disk.writeAtomically(Array(try e.encode(settings)), to: home.settingsFile)
    }
}
