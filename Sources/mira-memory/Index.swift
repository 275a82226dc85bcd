import ArgumentParser
import MiraCLI
import MiraRecall
import MiraShared
import MiraSQLite
import MiraSystem

/// How a backfill runs: concurrency, batch, progress.
struct BackfillOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Requests in flight at once.") var jobs: Int = 2
    @Option(help: "Messages per embeddings round (one claim, one or more requests).") var batch: Int = 256

    func validate() throws {
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be 1 to 64") }
        guard (1...100_000).contains(batch) else { throw ValidationError("--batch must be 1 to 100000") }
    }

    /// Runs the backfill; progress on stderr when it is a terminal, a summary line at the end.
    func run(stage: String, memory: MemoryOptions) throws {
        let path = memory.path(stage: stage)
        let embedder = memory.embedder(stage: stage)
        let first = memory.memory(stage: stage)
        let total: Int
        do {
            total = try first.pendingCount()
        } catch {
            fatal(stage: stage, error.message, status: error.code.exitStatus)
        }
        let live = Files.isTerminal(2)
        let start = SystemTime.monotonicMilliseconds()
        let outcome = Backfill.run(
            jobs: jobs, batch: batch,
            open: { () throws(StageError) -> Indexer in
                Indexer(memory: MemoryStore(try SessionStore(path: path)), embedder: embedder)
            },
            progress: { done in
                if live { LineWriter.standardError.writeRaw(Array("\r\u{1B}[K\(stage): \(done) of \(total) messages".utf8)) }
            })
        if live { LineWriter.standardError.writeRaw(Array("\r\u{1B}[K".utf8)) }
        let tenths = Int((SystemTime.monotonicMilliseconds() - start) / 100)
        let rate = tenths > 0 ? outcome.messages * 10 / tenths : 0
        report(stage: stage, line: nil, "indexed \(outcome.messages) messages and \(outcome.facts) facts with \(embedder.model) "
            + "in \(tenths / 10).\(tenths % 10) s (\(rate) messages/s)")
        if let failure = outcome.failure {
            fatal(stage: stage, failure.message + " (run it again: what was indexed is kept)", status: failure.code.exitStatus)
        }
    }
}

extension MiraMemoryCommand {
    struct Index: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give every stored message and fact a vector (a backfill, e.g. after an import).",
            discussion: "Safe to run beside chat turns and other indexers: each message is claimed before it is embedded, so none is sent twice.")

        @OptionGroup var memory: MemoryOptions
        @OptionGroup var backfill: BackfillOptions

        func run() throws {
            try backfill.run(stage: "mira-memory index", memory: memory)
        }
    }

    struct Reindex: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop every vector and index again (after changing the embedding model).")

        @OptionGroup var memory: MemoryOptions
        @OptionGroup var backfill: BackfillOptions

        func run() throws {
            let stage = "mira-memory reindex"
            do {
                let dropped = try memory.memory(stage: stage).dropVectors()
                report(stage: stage, line: nil, "dropped \(dropped) vectors")
            } catch {
                fatal(stage: stage, error.message, status: error.code.exitStatus)
            }
            try backfill.run(stage: stage, memory: memory)
        }
    }
}
