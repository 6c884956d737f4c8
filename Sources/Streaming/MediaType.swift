/// Content types for what people stream, by file extension.
public enum MediaType {
    static let byExtension: [String: String] = [
        "mp4": "video/mp4", "m4v": "video/mp4", "mkv": "video/x-matroska", "webm": "video/webm",
        "mov": "video/quicktime", "avi": "video/x-msvideo", "ts": "video/mp2t", "m2ts": "video/mp2t",
        "mpg": "video/mpeg", "mpeg": "video/mpeg", "ogv": "video/ogg", "wmv": "video/x-ms-wmv", "flv": "video/x-flv",
        "3gp": "video/3gpp",
        "mp3": "audio/mpeg", "m4a": "audio/mp4", "aac": "audio/aac", "flac": "audio/flac", "ogg": "audio/ogg",
        "oga": "audio/ogg", "opus": "audio/ogg", "wav": "audio/wav", "mka": "audio/x-matroska",
        "srt": "application/x-subrip", "vtt": "text/vtt", "ass": "text/x-ssa", "ssa": "text/x-ssa",
        "sub": "text/plain",
        "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp",
        "nfo": "text/plain", "txt": "text/plain",
    ]

    /// The content type for a file name; `application/octet-stream` if unknown.
    public static func forFile(_ name: String) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "application/octet-stream" }
        return byExtension[name[name.index(after: dot)...].lowercased()] ?? "application/octet-stream"
    }

    public static func isVideo(_ name: String) -> Bool { forFile(name).hasPrefix("video/") }
}
