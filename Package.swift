// swift-tools-version: 6.1
import Foundation
import PackageDescription

// Module boundaries (see README and each module's README.md); arrows point one way:
//   SQLite  <- Raft (Storage/ only), Store
//   Store   <- Scheduler, Executor (which also uses Preprocess)
//   Preprocess and API import nothing of ours
//   Node wires everything and is the only module with sockets; trireme is the executable.
// Release builds of our modules use aggressive cross-module optimization: generic code of one
// module (the store's, the node's) is specialised and inlined into its callers. Measured side
// by side (bench/cluster/README.md): 2-13% more writes/s at 64 clients, ~8% less CPU per write.
// Only our own targets: SwiftPM offers no way to set a dependency's flags from here.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]

// jemalloc replaces glibc's malloc in the `trireme` binary when the build machine has it
// (Debian's libjemalloc-dev; `.ci/run` installs it). Swift allocates and frees on every
// request and every log entry: with jemalloc a three-node cluster spends 5-10% less CPU
// per write at 64 clients (bench/cluster/README.md). Without it the build links glibc's malloc
// as before; `trireme serve` logs which ("malloc" in its "starting" line). TRIREME_MALLOC=glibc
// in the build's environment keeps glibc's. SwiftPM re-reads this file only when it changes:
// after installing or removing the library, `touch Package.swift` makes it look again.
let jemalloc = ProcessInfo.processInfo.environment["TRIREME_MALLOC"] != "glibc"
    && ["/usr/lib/x86_64-linux-gnu/libjemalloc.so", "/usr/lib/aarch64-linux-gnu/libjemalloc.so"]
        .contains { FileManager.default.fileExists(atPath: $0) }

let package = Package(
    name: "Trireme",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "trireme", targets: ["trireme"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // No default traits: saves about a minute of clean build (SWIFT-NOTES).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // TLS for the client API (HummingbirdTLS) and mutual TLS between peers (issue 10).
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(name: "SQLite", dependencies: ["CSQLite"], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "Raft", dependencies: ["SQLite"], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "Store", dependencies: ["SQLite"], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "Preprocess", exclude: ["README.md"], swiftSettings: strict),
        .target(name: "Scheduler", dependencies: ["Store"], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "Executor", dependencies: ["Store", "Preprocess"], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "API", exclude: ["README.md"], swiftSettings: strict),
        .target(
            name: "Node",
            dependencies: [
                "Raft", "Store", "API", "Scheduler", "Executor", "Preprocess",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
            ],
            // Web/: the dashboard and OpenAPI sources, embedded as WebAssets.swift by Web/embed.py.
            exclude: ["README.md", "Web"],
            swiftSettings: strict
        ),
        // Apply: `trireme apply` / `export` — a declared setup (YAML or JSON) and the plan that turns the
        // cluster's current setup into it. Pure logic over API types; the CLI does the HTTP.
        .target(
            name: "Apply",
            dependencies: ["API", "Store", .product(name: "Yams", package: "Yams")],
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "trireme",
            dependencies: ["Node", "API", "Apply", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict,
            linkerSettings: jemalloc ? [.linkedLibrary("jemalloc")] : []
        ),
        // Chaos: the checker (pure logic); trireme-chaos: workload, delivery sink and checks against a
        // running cluster (cluster/chaos/run.sh).
        .target(name: "Chaos", exclude: ["README.md"], swiftSettings: strict),
        .executableTarget(
            name: "trireme-chaos",
            dependencies: [
                "Chaos", "API",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "RaftBench", dependencies: ["Raft", "SQLite"], path: "bench/RaftBench", swiftSettings: strict),
        .executableTarget(name: "StoreBench", dependencies: ["Store", "SQLite"], path: "bench/StoreBench", swiftSettings: strict),
        // `@Suite(.ownThreads)` for test suites that block or compute for long (Tests/TestSupport).
        .target(name: "TestSupport", path: "Tests/TestSupport", exclude: ["README.md"], swiftSettings: strict),
        .testTarget(name: "SQLiteTests", dependencies: ["SQLite"], swiftSettings: strict),
        .testTarget(name: "RaftTests", dependencies: ["Raft", "SQLite"], exclude: ["testdata"], swiftSettings: strict),
        .testTarget(name: "RaftSimulationTests", dependencies: ["Raft", "TestSupport"], exclude: ["README.md", "FINDINGS.md"], swiftSettings: strict),
        .testTarget(name: "StoreTests", dependencies: ["Store", "SQLite"], swiftSettings: strict),
        .testTarget(name: "PreprocessTests", dependencies: ["Preprocess", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler", "Store"], swiftSettings: strict),
        .testTarget(name: "ExecutorTests", dependencies: ["Executor", "Scheduler", "Store", "Preprocess"], swiftSettings: strict),
        .testTarget(
            name: "NodeTests",
            dependencies: [
                "Node", "Raft", "Executor", "Store", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "ChaosTests", dependencies: ["Chaos"], swiftSettings: strict),
        .testTarget(name: "ApplyTests", dependencies: ["Apply", "API", "Store"], swiftSettings: strict),
        // Multi-process tests: start real `trireme serve` processes (built first by this dependency).
        // Node, Raft and NIO for the peer-port probes (B11), which speak the peer protocol.
        .testTarget(
            name: "ClusterTests",
            dependencies: [
                "trireme", "Node", "Raft", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
    ]
)
