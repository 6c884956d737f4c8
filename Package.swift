// swift-tools-version:6.0
import PackageDescription

// libtorrent's pkg-config defines, which SwiftPM drops ("prohibited flags"):
// see docs/libtorrent.md. A missing TORRENT_USE_LIBCRYPTO only shows
// up at link time, as an undefined libtorrent::builtin::hasher.
let libtorrentDefines: [CXXSetting] = [
    "TORRENT_LINKING_SHARED", "BOOST_ASIO_ENABLE_CANCELIO", "BOOST_ASIO_NO_DEPRECATED",
    "TORRENT_USE_OPENSSL", "TORRENT_USE_LIBCRYPTO", "TORRENT_SSL_PEERS", "OPENSSL_NO_SSL2",
    "BOOST_ALL_NO_LIB",
].map { .define($0) }

// A file says `public import X` only where a type of X shows in its public
// API (STYLE.md): what a module leaks is visible at the top of each file.
let internalImports: [SwiftSetting] = [.enableUpcomingFeature("InternalImportsByDefault")]

let package = Package(
    name: "Matinee",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "matinee", targets: ["matinee"]),
        .executable(name: "matinee-bench", targets: ["matinee-bench"]),
        .executable(name: "catalog-bench", targets: ["catalog-bench"]),
        .executable(name: "propagation-bench", targets: ["propagation-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
    ],
    targets: [
        // The only C++ in the package: a thin shim over libtorrent with a plain C header.
        .target(
            name: "CLibtorrent",
            cxxSettings: libtorrentDefines + [.unsafeFlags(["-fexceptions", "-std=c++17"])],
            linkerSettings: [
                .linkedLibrary("torrent-rasterbar"), .linkedLibrary("ssl"), .linkedLibrary("crypto"),
                .linkedLibrary("stdc++"),
            ]
        ),
        // The Swift face of the engine. No libtorrent type leaves this module.
        .target(
            name: "TorrentKit", dependencies: ["CLibtorrent", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: internalImports),
        // Channels: the catalog format, signing, the library scanner, BEP 46
        // publish/resolve and the SQLite index.
        .target(
            name: "Catalog",
            dependencies: [
                "TorrentKit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            // The bundled Open Films channel's posters (scripts/make-open-films-posters).
            resources: [.copy("OpenFilms")],
            swiftSettings: internalImports
        ),
        // Releases of Matinee itself: manifests, keys, the checks in their
        // order, safe extraction, installs side by side, switch and rollback.
        .target(
            name: "Updates",
            dependencies: [
                "TorrentKit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: internalImports
        ),
        // Casting to the TV (issue 14): UPnP AV renderers found by SSDP and
        // driven over SOAP; Chromecasts found by mDNS and driven over Cast V2
        // (TLS, protobuf frames). Depends on nothing of ours: it speaks to devices.
        .target(
            name: "Casting",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["Protos"],
            swiftSettings: internalImports),
        .target(
            name: "Streaming",
            dependencies: [
                "TorrentKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: internalImports
        ),
        .target(
            name: "Server",
            dependencies: [
                "Streaming", "TorrentKit", "Catalog",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // The web UI: plain files, no build step.
            resources: [.copy("Web")],
            swiftSettings: internalImports
        ),
        // The application: one daemon that owns all state (home folders,
        // settings, the engine, channels, the library, playback) and runs its
        // long-lived parts as services. The CLI and the web UI are its clients.
        .target(
            name: "Daemon",
            dependencies: [
                "Server", "Streaming", "TorrentKit", "Catalog", "Updates", "Casting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: internalImports
        ),
        // Commands, option groups and console rendering only.
        .executableTarget(
            name: "matinee",
            dependencies: [
                "Daemon", "Server", "Streaming", "TorrentKit", "Catalog", "Updates", "Casting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "matinee-bench",
            dependencies: ["TestSupport"],
            path: "Benchmarks/matinee-bench"
        ),
        .executableTarget(
            name: "propagation-bench",
            dependencies: ["Catalog", "TorrentKit", "TestSupport", .product(name: "Crypto", package: "swift-crypto")],
            path: "Benchmarks/propagation-bench"
        ),
        .executableTarget(
            name: "catalog-bench",
            dependencies: ["Catalog", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Benchmarks/catalog-bench"
        ),
        // Seeders, processes and fixtures shared by the tests and the benchmark.
        .target(name: "TestSupport", dependencies: ["TorrentKit"], path: "Tests/TestSupport"),
        .testTarget(
            name: "TorrentKitTests",
            dependencies: ["TorrentKit", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(name: "StreamingTests", dependencies: ["Streaming", "TorrentKit", "TestSupport"]),
        .testTarget(name: "CastingTests", dependencies: ["Casting"]),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "Streaming", "TorrentKit", "Catalog", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "CatalogTests",
            dependencies: ["Catalog", "TorrentKit", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon", "Server", "Catalog", "TorrentKit", "TestSupport"]),
        .testTarget(name: "MatineeTests", dependencies: ["TestSupport"]),
        // Every parser that takes bytes from strangers, as fuzz targets
        // (scripts/fuzz); FuzzTests replays their corpus.
        .target(name: "FuzzTargets", dependencies: ["TorrentKit", "Catalog", "Server", "Updates"], path: "Fuzz/FuzzTargets"),
        .executableTarget(name: "matinee-fuzz", dependencies: ["FuzzTargets"], path: "Fuzz/matinee-fuzz"),
        .testTarget(name: "FuzzTests", dependencies: ["FuzzTargets", "TestSupport"]),
        .testTarget(
            name: "UpdatesTests",
            dependencies: ["Updates", "Catalog", "TorrentKit", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
    ],
    cxxLanguageStandard: .cxx17
)
