import MiraMemory
import MiraShared
import MiraSQLite
import MiraSystem

/// Fills in the derived index: a vector for every message and fact that has
/// none. Recall does a little of it on every turn (in the same request as
/// its query); `mira-memory index` does all of it.
package struct Indexer {
    package let memory: MemoryStore
    package let embedder: Embedder
    package var parameters = RankingParameters()

    package init(memory: MemoryStore, embedder: Embedder) {
        self.memory = memory
        self.embedder = embedder
    }

    /// What one round did.
    package struct Round {
        /// Messages given a vector (by this process; another may have stored some first).
        package var messages = 0
        /// Messages claimed (0: nothing left that no one else is working on).
        package var claimed = 0
        package var facts = 0
        /// The vectors of the texts sent along, in order.
        package var extra: [[Float]] = []
    }

    /// Claims up to `limit` messages without a vector and the facts without
    /// one, embeds them together with `extra` in as few requests as the
    /// batch size allows, and stores the vectors. A failure releases the
    /// claims, so another process (or the next turn) takes them again.
    package func round(limit: Int, alongWith extra: [String] = []) throws(StageError) -> Round {
        let claimed = try memory.claimPendingMessages(limit: limit)
        let facts: [(id: Int64, text: String)]
        do {
            facts = try memory.claimPendingFacts(limit: max(limit, 64))
        } catch {
            try? memory.release(claimed.map(\.id))
            throw error
        }
        let release = { () throws(StageError) in try memory.release(claimed.map(\.id), facts: facts.map(\.id)) }
        let texts = extra + claimed.map(\.text) + facts.map(\.text)
        let vectors: [[Float]]
        do {
            vectors = try embedder.embed(texts)
        } catch {
            try? release()
            throw error
        }
        var round = Round(claimed: claimed.count, extra: Array(vectors[0..<extra.count]))
        let messageVectors = zip(claimed.map(\.id), vectors[extra.count..<(extra.count + claimed.count)]).filter { !$0.1.isEmpty }
        let factVectors = zip(facts.map(\.id), vectors[(extra.count + claimed.count)...]).filter { !$0.1.isEmpty }
        do {
            round.messages = try memory.storeVectors(messageVectors.map { ($0.0, $0.1) }, model: embedder.model)
            if !factVectors.isEmpty {
                round.facts = try memory.storeFactVectors(factVectors.map { ($0.0, $0.1) }, model: embedder.model)
                _ = try memory.mergeNearDuplicateFacts(threshold: parameters.factMergeThreshold)
            }
        } catch {
            try? release()
            throw error
        }
        try release()
        return round
    }
}

/// `mira-memory index`: rounds until nothing is left, on `jobs` threads,
/// each with its own connection to the database.
package enum Backfill {
    package struct Outcome: Sendable {
        package var messages = 0
        package var facts = 0
        package var failure: StageError?
    }

    /// `open` gives each worker its own indexer; `progress` hears the count
    /// of messages indexed so far (from any worker, one at a time).
    package static func run(
        jobs: Int, batch: Int, open: @escaping @Sendable () throws(StageError) -> Indexer,
        progress: @escaping @Sendable (Int) -> Void
    ) -> Outcome {
        final class Shared: @unchecked Sendable {
            var outcome = Outcome()
            var running = 0
        }
        let monitor = Monitor()
        let shared = Shared()
        shared.running = jobs
        for _ in 0..<jobs {
            startThread {
                do throws(StageError) {
                    let indexer = try open()
                    while true {
                        if monitor.locked({ shared.outcome.failure != nil }) { break }
                        let round = try indexer.round(limit: batch)
                        if round.claimed == 0 && round.facts == 0 { break }
                        // Under the lock: two workers' progress lines never interleave.
                        monitor.locked {
                            shared.outcome.messages += round.messages
                            shared.outcome.facts += round.facts
                            progress(shared.outcome.messages)
                        }
                    }
                } catch {
                    monitor.locked { if shared.outcome.failure == nil { shared.outcome.failure = error } }
                }
                monitor.locked { shared.running -= 1 }
                monitor.broadcast()
            }
        }
        monitor.locked {
            while shared.running > 0 { monitor.wait() }
        }
        return monitor.locked { shared.outcome }
    }
}
