import ArgumentParser
import MiraCLI
import MiraRecall
import MiraShared
import MiraSystem

extension MiraMemoryCommand {
    /// The pipeline stage: between mira-prompt and mira-llm.
    struct Recall: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add what Mira remembers to each record: its memories, and a system message in the request.",
            discussion: """
                Embeds each record's input (with any stored messages not yet indexed, in the same request), \
                searches the stored messages (by default the whole database; --scope session: the record's own), \
                leaves out what the record's history already holds, and keeps the best within --top and \
                --budget, with the person's current facts and the session's latest summary. Records that \
                carry an error pass through untouched.
                """)

        enum Scope: String, ExpressibleByArgument, CaseIterable { case all, session }

        @OptionGroup var memory: MemoryOptions
        @OptionGroup var ranking: RankingOptions
        @Option(help: "Search all sessions, or only the record's own.") var scope: Scope = .all

        func run() throws {
            let stage = "mira-memory recall"
            let recaller = Recaller(indexer: memory.indexer(stage: stage), options: ranking.options(sessionOnly: scope == .session))
            var run = Stage(name: stage, diagnostics: .standardError)
            var reader = LineReader()
            run.run(reader: &reader) { record, _ throws(StageError) in
                try recaller.recall(&record)
            }
            if run.status != .ok { throw ExitCode(run.status.rawValue) }
        }
    }
}
