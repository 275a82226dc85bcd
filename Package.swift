// swift-tools-version:6.0
import PackageDescription

// mira-store links SQLite (sessions), mira-llm libcurl and SQLite (its reply
// cache), mira-prompt neither: each binary carries just what it uses.
let package = Package(
    name: "Mira",
    products: [
        .executable(name: "mira-store", targets: ["mira-store"]),
        .executable(name: "mira-prompt", targets: ["mira-prompt"]),
        .executable(name: "mira-llm", targets: ["mira-llm"]),
        .executable(name: "mira-eval", targets: ["mira-eval"]),
        .library(name: "MiraShared", targets: ["MiraShared"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),

        // The pure core: records, JSON, personas, prompts, replies, SSE, retries.
        .target(name: "MiraShared"),
        // Adapters at the edges.
        .target(name: "MiraStoreKit", dependencies: ["MiraShared", "CSQLite"]),
        .target(name: "MiraHTTP", dependencies: ["MiraShared", "CCurl"]),

        .executableTarget(
            name: "mira-store",
            dependencies: [
                "MiraShared", "MiraStoreKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "mira-prompt",
            dependencies: [
                "MiraShared",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "mira-llm",
            dependencies: [
                "MiraShared", "MiraHTTP", "MiraStoreKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Scores results offline: needs neither the store nor the network.
        .executableTarget(
            name: "mira-eval",
            dependencies: [
                "MiraShared",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .testTarget(name: "MiraSharedTests", dependencies: ["MiraShared"]),
        .testTarget(name: "MiraStoreKitTests", dependencies: ["MiraStoreKit"]),
        // Runs the built executables in real pipelines (needs no library code).
        .testTarget(name: "EndToEndTests"),
    ]
)
