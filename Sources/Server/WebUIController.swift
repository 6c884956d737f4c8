import Foundation
import Hummingbird
import NIOCore

/// The web UI: plain HTML, CSS and ES modules shipped with the app (no build
/// step, nothing fetched from elsewhere). Only the files listed here are
/// served, from the package's resources.
enum WebFiles {
    /// The ES modules: app.js imports the others (each a page or a part
    /// every page uses).
    static let modules = [
        "app", "api", "dom", "router", "home", "title", "player", "channels", "downloads", "settings", "keys", "cast",
    ]

    static let files: [String: (name: String, type: String)] = {
        var files: [String: (name: String, type: String)] = [
            "/": ("index.html", "text/html; charset=utf-8"),
            "/ui/style.css": ("style.css", "text/css; charset=utf-8"),
            "/ui/icon.svg": ("icon.svg", "image/svg+xml"),
        ]
        for m in modules { files["/ui/\(m).js"] = ("\(m).js", "text/javascript; charset=utf-8") }
        return files
    }()

    /// Read once: they are small and never change while the app runs.
    static let contents: [String: [UInt8]] = {
        var out: [String: [UInt8]] = [:]
        for (_, f) in files {
            if let url = Bundle.module.url(forResource: f.name, withExtension: nil, subdirectory: "Web")
                ?? Bundle.module.url(forResource: f.name, withExtension: nil),
                let data = try? Data(contentsOf: url)
            {
                out[f.name] = Array(data)
            }
        }
        return out
    }()
}

struct WebUIController<Context: RequestContext> {
    func addRoutes(to router: Router<Context>) {
        for (path, f) in WebFiles.files {
            router.get(RouterPath(path)) { _, _ in
                guard let body = WebFiles.contents[f.name] else { throw HTTPError(.notFound) }
                return Response(
                    status: .ok, headers: [.contentType: f.type, .cacheControl: "no-cache"],
                    body: .init(byteBuffer: ByteBuffer(bytes: body)))
            }
        }
    }
}
