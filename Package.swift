// swift-tools-version: 6.1
import PackageDescription

// Module boundaries (see README and each module's README.md):
//   SQLite  <- Raft (Storage/ only), Store
//   Preprocess stands alone
//   Node wires everything (later issue); trireme is the executable.
let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "Trireme",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "trireme", targets: ["trireme"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
        .executableTarget(
            name: "trireme",
            dependencies: [
                "Raft", "Store",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "RaftBench", dependencies: ["Raft", "SQLite"], path: "bench/RaftBench", swiftSettings: strict),
        .executableTarget(name: "StoreBench", dependencies: ["Store", "SQLite"], path: "bench/StoreBench", swiftSettings: strict),
        .testTarget(name: "SQLiteTests", dependencies: ["SQLite"], swiftSettings: strict),
        .testTarget(name: "RaftTests", dependencies: ["Raft", "SQLite"], swiftSettings: strict),
        .testTarget(name: "RaftSimulationTests", dependencies: ["Raft"], swiftSettings: strict),
        .testTarget(name: "StoreTests", dependencies: ["Store", "SQLite"], swiftSettings: strict),
        .testTarget(name: "PreprocessTests", dependencies: ["Preprocess"], swiftSettings: strict),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler", "Store"], swiftSettings: strict),
        .testTarget(name: "ExecutorTests", dependencies: ["Executor", "Scheduler", "Store", "Preprocess"], swiftSettings: strict),
    ]
)
