// swift-tools-version:6.0
import PackageDescription

// One module per concern; dependencies run one way, from the pure values in
// MiraShared out to the adapters (SQLite, libcurl) and the executables. Each
// binary links only the modules it uses: mira-prompt has neither SQLite nor
// libcurl, mira-eval neither the network nor the store.
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")

// libstdc++ and libgcc (which the static Swift runtime needs) linked into
// the binaries, not loaded: the dynamic loader binding libstdc++.so cost a
// lone `mira` turn about 2 million instructions, and loading libgcc_s.so
// (its start-up asks the CPU its features) about 3% of its CPU time
// (bench/README.md). `make` links GCC's libstdc++.a, and nothing else, into
// this folder; searched before GCC's own, it makes the runtime's -lstdc++ the
// archive. Without it the binaries load libstdc++.so as before.
let staticLibraries = Context.packageDirectory + "/.build/static-libs"
let linksRuntimeLibrariesStatically: [LinkerSetting] = [
    .unsafeFlags(["-L" + staticLibraries, "-Xclang-linker", "-static-libgcc"]),
]

// `mira`, which starts for every turn, exports none of its own symbols: the
// toolchain's static-stdlib link adds `-export-dynamic`, which put its 3,000
// in the loader's tables, searched one by one by the runtime's single
// start-up `dladdr` (about 0.1 ms of a turn; bench/README.md).
let startsQuickly: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "--no-export-dynamic"]),
]

let package = Package(
    name: "Mira",
    products: [
        .executable(name: "mira-store", targets: ["mira-store"]),
        .executable(name: "mira-prompt", targets: ["mira-prompt"]),
        .executable(name: "mira-llm", targets: ["mira-llm"]),
        .executable(name: "mira-eval", targets: ["mira-eval"]),
        .executable(name: "mira", targets: ["mira"]),
        .executable(name: "mira-commands", targets: ["mira-commands"]),
        .executable(name: "mira-memory", targets: ["mira-memory"]),
        .executable(name: "mira-serve", targets: ["mira-serve"]),
    ],
    dependencies: [
        // Command lines, help and usage errors for every executable.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // HTTP for `mira-serve` only. Hummingbird: well kept, small, built on
        // SwiftNIO, async/await throughout, and it has a WebSocket module for
        // when the page wants one; server-sent events need nothing beyond a
        // streamed body. It costs a few minutes on a first build (docs/http.md),
        // and no other binary links it.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Its logger, quietened to warnings: mira-serve says itself where it listens.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // SQLite linked statically (Debian's libsqlite3.a, see its module
        // map), so no pkg-config: its -lsqlite3 would load libsqlite3.so too.
        .systemLibrary(
            name: "CSQLite",
            providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        // Line editing and input history for `mira chat` (BSD editline: a
        // Debian package, and what sqlite3 and many shells use). Its header
        // only: the chat opens libedit.so.2 when it starts (see shim.h).
        .systemLibrary(
            name: "CEditLine",
            providers: [.apt(["libedit-dev"])]),

        // Pure values: JSON, records, messages, replies and their contract,
        // identifiers, errors and exit statuses. No libc.
        .target(name: "MiraShared"),
        // The one place that touches the OS: descriptors, lines, files, clock,
        // environment, folders, terminal, threads, the record loop, diagnostics.
        .target(name: "MiraSystem", dependencies: ["MiraShared", "CSpawn"]),
        // Personas, the system prompt, the chat request, transcript replay.
        .target(name: "MiraPrompt", dependencies: ["MiraShared", "MiraSystem"]),
        // Talking to a model: the transport protocol, the chat client, reading
        // completions and streams, retries.
        .target(name: "MiraLLM", dependencies: ["MiraShared", "MiraSystem", "MiraPrompt"]),
        // Many turns at once: workers, order, throttling, resume, Batch API files.
        .target(name: "MiraBatch", dependencies: ["MiraShared", "MiraSystem", "MiraLLM"]),
        // Scoring result records: checks, expectations, reports.
        .target(name: "MiraEval", dependencies: ["MiraShared", "MiraSystem"]),
        // Long-term memory's arithmetic: vectors, top-k, fusion of rankings,
        // recency, token budgets. Pure values, no libc.
        .target(name: "MiraMemory", dependencies: ["MiraShared"]),
        // Adapters at the edges.
        // glibc's posix_spawn extensions, which Swift's Glibc module leaves out.
        .target(name: "CSpawn"),
        // The command line for `mira`'s Swift runtime, from glibc (arguments.c).
        .target(name: "CArguments"),
        .target(name: "MiraSQLite", dependencies: ["MiraShared", "MiraSystem", "MiraMemory", "CSQLite"]),
        .target(name: "MiraCurl", dependencies: ["MiraShared", "MiraSystem", "MiraLLM", "CCurl"]),
        // Remembering: indexing messages and facts (claims, so concurrent
        // processes never embed one twice), recall for a turn, search,
        // summaries. Servers come in as transports, so no libcurl here.
        .target(name: "MiraRecall", dependencies: ["MiraShared", "MiraSystem", "MiraPrompt", "MiraLLM", "MiraMemory", "MiraSQLite"]),
        // A whole turn in one process, for people: load, prepare, recall,
        // ask, save; the current session; a transcript to read.
        .target(name: "MiraCompanion", dependencies: ["MiraShared", "MiraSystem", "MiraPrompt", "MiraLLM", "MiraBatch", "MiraSQLite", "MiraCurl", "MiraRecall"]),
        // The web API over the same turn: routes, who is who, JSON bodies.
        .target(
            name: "MiraServe",
            dependencies: [
                "MiraShared", "MiraSystem", "MiraPrompt", "MiraLLM", "MiraSQLite", "MiraCurl", "MiraRecall", "MiraCompanion",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // What the executables share: starting up (the config file), failing with one line and a status.
        .target(name: "MiraCLI", dependencies: ["MiraShared", "MiraSystem"]),
        // What `mira` does for people without the argument parser: the usual
        // turn read from its command line, the settings, the current session,
        // the screen while a turn waits.
        .target(
            name: "MiraFront",
            dependencies: ["MiraShared", "MiraSystem", "MiraPrompt", "MiraLLM", "MiraSQLite", "MiraCurl", "MiraRecall", "MiraCompanion", "MiraCLI"]),

        .executableTarget(name: "mira-store", dependencies: ["MiraShared", "MiraSystem", "MiraSQLite", "MiraCLI", argumentParser], linkerSettings: linksRuntimeLibrariesStatically),
        .executableTarget(name: "mira-prompt", dependencies: ["MiraShared", "MiraSystem", "MiraPrompt", "MiraCLI", argumentParser], linkerSettings: linksRuntimeLibrariesStatically),
        .executableTarget(
            name: "mira-llm",
            dependencies: [
                "MiraShared", "MiraSystem", "MiraLLM", "MiraBatch", "MiraCurl", "MiraSQLite", "MiraCLI", argumentParser,
            ],
            linkerSettings: linksRuntimeLibrariesStatically),
        .executableTarget(name: "mira-eval", dependencies: ["MiraShared", "MiraSystem", "MiraEval", "MiraCLI", argumentParser], linkerSettings: linksRuntimeLibrariesStatically),
        // The memory stage and the commands to see and edit what is remembered.
        .executableTarget(
            name: "mira-memory",
            dependencies: [
                "MiraShared", "MiraSystem", "MiraMemory", "MiraSQLite", "MiraRecall", "MiraCompanion", "MiraCLI", argumentParser,
            ],
            linkerSettings: linksRuntimeLibrariesStatically),
        // The front door for people: `mira` runs the usual turn itself and
        // hands every other command line to `mira-commands` (the chat, the
        // log, the settings, help). Apart, so that a turn's process loads
        // neither the argument parser nor the Foundation it links.
        .executableTarget(
            name: "mira",
            dependencies: ["MiraShared", "MiraSystem", "MiraCLI", "MiraFront", "CArguments"],
            linkerSettings: linksRuntimeLibrariesStatically + startsQuickly),
        .executableTarget(
            name: "mira-commands",
            dependencies: [
                "MiraShared", "MiraSystem", "MiraPrompt", "MiraLLM", "MiraSQLite", "MiraCurl", "MiraCompanion", "MiraCLI", "MiraFront",
                "CEditLine", argumentParser,
            ],
            linkerSettings: linksRuntimeLibrariesStatically),

        // Mira on the web: the API (docs/http.md) on 127.0.0.1:8080.
        .executableTarget(
            name: "mira-serve",
            dependencies: ["MiraShared", "MiraSystem", "MiraServe", "MiraCLI", argumentParser],
            linkerSettings: linksRuntimeLibrariesStatically),

        // Temporary folders, pipes and JSON helpers the unit tests share.
        .target(name: "MiraTestSupport", dependencies: ["MiraShared", "MiraSystem", "MiraPrompt", "MiraLLM"], path: "Tests/MiraTestSupport"),
        .testTarget(name: "MiraSharedTests", dependencies: ["MiraShared", "MiraTestSupport"]),
        .testTarget(name: "MiraSystemTests", dependencies: ["MiraShared", "MiraSystem", "MiraTestSupport"]),
        .testTarget(name: "MiraPromptTests", dependencies: ["MiraShared", "MiraSystem", "MiraPrompt", "MiraTestSupport"]),
        .testTarget(name: "MiraLLMTests", dependencies: ["MiraShared", "MiraSystem", "MiraPrompt", "MiraLLM", "MiraTestSupport"]),
        .testTarget(name: "MiraBatchTests", dependencies: ["MiraShared", "MiraSystem", "MiraLLM", "MiraBatch", "MiraTestSupport"]),
        .testTarget(name: "MiraEvalTests", dependencies: ["MiraShared", "MiraSystem", "MiraEval", "MiraTestSupport"]),
        .testTarget(name: "MiraMemoryTests", dependencies: ["MiraMemory"]),
        .testTarget(name: "MiraSQLiteTests", dependencies: ["MiraShared", "MiraSystem", "MiraMemory", "MiraSQLite", "MiraTestSupport"]),
        .testTarget(name: "MiraCompanionTests", dependencies: ["MiraShared", "MiraSystem", "MiraPrompt", "MiraLLM", "MiraSQLite", "MiraRecall", "MiraCompanion", "MiraTestSupport"]),
        // Memory search speed at 10k-1M stored messages (bench/memory/speed.md); not a test.
        .executableTarget(
            name: "mira-memory-bench", dependencies: ["MiraShared", "MiraSystem", "MiraMemory", "MiraSQLite"],
            path: "bench/memory/speed"),

        // Runs the built executables in real pipelines (needs no library code).
        .testTarget(name: "EndToEndTests", dependencies: ["CSpawn"]),
    ]
)
