import ArgumentParser
import MiraCLI
import MiraCompanion
import MiraMemory
import MiraRecall
import MiraShared
import MiraSQLite
import MiraSystem

/// Mira's long-term memory: the recall stage of the pipeline, and the
/// commands to build, search, see and forget what she remembers.
@main
struct MiraMemoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mira-memory",
        abstract: "Mira's long-term memory: recall for a turn, index, search, list, forget.",
        discussion: """
            Database: --db, else $MIRA_DB, else $XDG_DATA_HOME/mira/mira.db. Embeddings: MIRA_EMBED_MODEL at \
            MIRA_EMBED_BASE_URL (default OPENAI_BASE_URL). In a pipeline:
              mira-store load s1 | mira-prompt "hi" | mira-memory recall | mira-llm | mira-store save s1
            """,
        version: MiraVersion.line("mira-memory"),
        subcommands: [Recall.self, Index.self, Reindex.self, Search.self, List.self, Facts.self, Forget.self, Stats.self, Summarize.self])

    static func main() {
        Startup.prepare(stage: "mira-memory")
        main(nil)
    }
}

/// What every subcommand that opens the database takes.
struct MemoryOptions: ParsableArguments {
    @Option(name: .long, help: "The SQLite database file.")
    var db: String?
    @Option(name: .customLong("embed-model"), help: "The embedding model (default: MIRA_EMBED_MODEL, else text-embedding-3-small).")
    var embedModel: String?

    func path(stage: String) -> String {
        guard let path = StoreLocation.resolve(explicit: db) else {
            fatal(stage: stage, "no database path: set --db, MIRA_DB or HOME", status: .usage)
        }
        return path
    }

    /// The memory over the database, opened to write (recall and index
    /// store vectors) or to read (creating nothing).
    func memory(stage: String, _ access: SessionStore.Access = .readWrite) -> MemoryStore {
        do {
            return MemoryStore(try SessionStore(path: path(stage: stage), access: access))
        } catch {
            fatal(stage: stage, error.message, status: error.code.exitStatus)
        }
    }

    func embedder(stage: String) -> Embedder {
        do {
            return try MemoryServices.embedder(environment: .process, model: embedModel)
        } catch {
            fatal(stage: stage, error.message, status: .usage)
        }
    }

    func indexer(stage: String, _ access: SessionStore.Access = .readWrite) -> Indexer {
        Indexer(memory: memory(stage: stage, access), embedder: embedder(stage: stage))
    }
}

/// How recall and search rank, from the command line.
struct RankingOptions: ParsableArguments {
    @Option(help: "At most this many recalled messages.") var top: Int = RankingParameters().top
    @Option(help: "At most this many tokens (about 4 bytes each) of recalled messages.") var budget: Int = RankingParameters().budget
    @Option(help: "fused (vector and keyword rankings with recency), vector or keyword.") var rank: RankingMode = .fused

    func validate() throws {
        guard (1...1000).contains(top) else { throw ValidationError("--top must be 1 to 1000") }
        guard (1...1_000_000).contains(budget) else { throw ValidationError("--budget must be 1 to 1000000") }
    }

    func options(sessionOnly: Bool = false) -> RecallOptions {
        var options = RecallOptions()
        options.parameters.top = top
        options.parameters.budget = budget
        options.mode = rank
        options.sessionOnly = sessionOnly
        return options
    }
}

extension RankingMode: ExpressibleByArgument {}

/// An id as the listings show it: `m12` a message, `f3` a fact.
enum MemoryID: Equatable {
    case message(Int64)
    case fact(Int64)

    init?(_ text: String) {
        guard let kind = text.first, let n = Int64(text.dropFirst()), n > 0 else { return nil }
        switch kind {
        case "m": self = .message(n)
        case "f": self = .fact(n)
        default: return nil
        }
    }
}
