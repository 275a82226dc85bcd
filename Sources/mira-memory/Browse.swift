import ArgumentParser
import MiraCLI
import MiraCompanion
import MiraRecall
import MiraShared
import MiraSQLite
import MiraSystem

/// Writes a line, or ends the command when stdout is gone.
func say(_ line: String, stage: String) {
    if !LineWriter.standardOutput.writeLine(line) {
        fatal(stage: stage, "cannot write to standard output", status: .ioError)
    }
}

/// Stored text for a person's eyes: control characters made visible, one
/// line, cut to `width` characters.
func shown(_ text: String, width: Int = 100) -> String {
    let flat = TerminalText.field(text)
    return flat.count > width ? String(flat.prefix(width - 1)) + "…" : flat
}

extension MiraMemoryCommand {
    struct Search: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Search what Mira remembers, ranked as recall ranks it.",
            discussion: """
                Each line: id (m…), date, session, who, score, text. --json: one memory object a line.
                It only reads: messages stored since the last turn's recall get their vectors from the next \
                turn's recall (or mira-memory index), and until then are found by their words alone.
                """)

        @OptionGroup var memory: MemoryOptions
        @OptionGroup var ranking: RankingOptions
        @Argument(help: "What to look for.") var query: String
        @Option(name: .shortAndLong, help: "Only this session.") var session: String?
        @Flag(help: "One JSON object per memory.") var json = false

        func validate() throws {
            if let session { try checked(session: session) }
            guard query.contains(where: { !$0.isWhitespace }) else { throw ValidationError("the query is empty") }
        }

        func run() throws {
            let stage = "mira-memory search"
            let store = memory.memory(stage: stage, .readOnly)
            // A keyword search needs no embeddings server.
            let embedder = ranking.rank == .keyword ? nil : memory.embedder(stage: stage)
            let found: [RecalledMemory]
            do {
                if let embedder {
                    found = try Recaller(indexer: Indexer(memory: store, embedder: embedder), options: ranking.options())
                        .search(query, session: session)
                } else {
                    found = try Recaller.keywordOnly(memory: store, options: ranking.options()).search(query, session: session)
                }
            } catch {
                fatal(stage: stage, error.message, status: error.code.exitStatus)
            }
            for m in found {
                if json {
                    say(String(decoding: JSONWriter.bytes(m.json), as: UTF8.self), stage: stage)
                } else {
                    let score = Int((m.score * 10_000).rounded())
                    say("m\(m.id)\t\(m.time.prefix(10))\t\(m.session)\t\(m.role ?? "")\t\(score)\t\(shown(m.text))", stage: stage)
                }
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the remembered messages (those with a vector), newest first.")

        @OptionGroup var memory: MemoryOptions
        @Option(name: .shortAndLong, help: "Only this session.") var session: String?
        @Option(help: "At most this many.") var last: Int = 20
        @Flag(help: "One JSON object per message.") var json = false

        func validate() throws {
            if let session { try checked(session: session) }
            guard last > 0 else { throw ValidationError("--last must be 1 or more") }
        }

        func run() throws {
            let stage = "mira-memory list"
            do {
                for m in try memory.memory(stage: stage, .readOnly).remembered(session: session, last: last) {
                    if json {
                        let memory = RecalledMemory(kind: .message, id: m.id, session: m.session, turn: m.turn, role: m.role.rawValue,
                                                    text: m.text, time: m.time, score: 0)
                        say(String(decoding: JSONWriter.bytes(memory.json), as: UTF8.self), stage: stage)
                    } else {
                        say("m\(m.id)\t\(m.time.prefix(10))\t\(m.session)\t\(m.role.rawValue)\t\(shown(m.text))", stage: stage)
                    }
                }
            } catch {
                fatal(stage: stage, error.message, status: error.code.exitStatus)
            }
        }
    }

    struct Facts: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the facts Mira keeps about you (current ones; --all with those superseded).")

        @OptionGroup var memory: MemoryOptions
        @Flag(help: "Superseded facts too, with what replaced them.") var all = false
        @Flag(help: "One JSON object per fact.") var json = false

        func run() throws {
            let stage = "mira-memory facts"
            do {
                let store = memory.memory(stage: stage, .readOnly)
                for f in all ? try store.allFacts() : try store.currentFacts(limit: Int.max) {
                    if json {
                        var o: JSONObject = ["id": .string("f\(f.id)"), "topic": .string(f.topic), "fact": .string(f.text),
                                             "session": .string(f.session), "time": .string(f.time),
                                             "last_seen": .string(f.lastSeen), "seen": .int(f.seen)]
                        if let turn = f.turn { o["turn"] = .string(turn) }
                        if let by = f.supersededBy { o["superseded_by"] = .string("f\(by)") }
                        say(String(decoding: JSONWriter.bytes(.object(o)), as: UTF8.self), stage: stage)
                    } else {
                        let replaced = f.supersededBy.map { "\tsuperseded by f\($0)" } ?? ""
                        say("f\(f.id)\t\(shown(f.topic, width: 40))\t\(shown(f.text))\t(said \(f.seen)×, last \(f.lastSeen.prefix(10)))\(replaced)",
                            stage: stage)
                    }
                }
            } catch {
                fatal(stage: stage, error.message, status: error.code.exitStatus)
            }
        }
    }

    struct Forget: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forget messages (m…) or facts (f…) for good: the text is deleted and overwritten.",
            discussion: "A forgotten message leaves its session's history too. Ids come from search, list and facts.")

        @OptionGroup var memory: MemoryOptions
        @Argument(help: "Ids such as m12 or f3.") var ids: [String]

        func validate() throws {
            guard !ids.isEmpty else { throw ValidationError("name at least one id (m12, f3)") }
            for id in ids where MemoryID(id) == nil {
                throw ValidationError("\(Identifiers.quoted(id)) is not a memory id: m and a number for a message, f and a number for a fact")
            }
        }

        func run() throws {
            let stage = "mira-memory forget"
            let store = memory.memory(stage: stage)
            var missing: [String] = []
            do {
                for id in ids {
                    let found: Bool
                    switch MemoryID(id)! {
                    case .message(let n): found = try store.forget(message: n)
                    case .fact(let n): found = try store.forget(fact: n)
                    }
                    if found { say("forgot \(id)", stage: stage) } else { missing.append(id) }
                }
                if try !store.scrub() {
                    report(stage: stage, line: nil, "warning: another process is reading the database; the forgotten text leaves its log file at the next checkpoint")
                }
            } catch {
                fatal(stage: stage, error.message, status: error.code.exitStatus)
            }
            if !missing.isEmpty {
                fatal(stage: stage, "no such memory: \(missing.joined(separator: ", ")) (search, list and facts show the ids)", status: .noInput)
            }
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts, the embedding model, and the size on disk.")

        @OptionGroup var memory: MemoryOptions
        @Flag(help: "One JSON object.") var json = false

        func run() throws {
            let stage = "mira-memory stats"
            do {
                let store = memory.memory(stage: stage, .readOnly)
                let s = try store.stats()
                let pending = try store.pendingCount()
                let indexed = s.indexed.reduce(0) { $0 + $1.count }
                if json {
                    let o: JSONObject = [
                        "messages": .int(s.messages), "indexed": .int(indexed), "pending": .int(pending),
                        "models": .array(s.indexed.map { ["model": .string($0.model), "dimension": .int($0.dimension), "vectors": .int($0.count)] }),
                        "facts": .int(s.currentFacts), "superseded_facts": .int(s.supersededFacts),
                        "summaries": .int(s.summaries), "bytes_on_disk": .int(s.bytesOnDisk),
                    ]
                    say(String(decoding: JSONWriter.bytes(.object(o)), as: UTF8.self), stage: stage)
                } else {
                    say("messages\t\(s.messages)", stage: stage)
                    say("indexed\t\(indexed)\t(\(pending) waiting: mira-memory index)", stage: stage)
                    for m in s.indexed { say("model\t\(shown(m.model))\t\(m.dimension) dimensions", stage: stage) }
                    say("facts\t\(s.currentFacts)\t(\(s.supersededFacts) superseded)", stage: stage)
                    say("summaries\t\(s.summaries)", stage: stage)
                    say("on disk\t\(s.bytesOnDisk / 1024) KiB", stage: stage)
                }
            } catch {
                fatal(stage: stage, error.message, status: error.code.exitStatus)
            }
        }
    }

    struct Summarize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Summarize older messages no summary covers yet (a session, or every session where one is due).",
            discussion: "A summary is due when 20 messages older than the 15 a turn loads wait; --force summarizes what waits.")

        @OptionGroup var memory: MemoryOptions
        @Argument(help: "The session (default: every session where a summary is due).") var session: String?
        @Flag(help: "Summarize even fewer waiting messages.") var force = false

        func validate() throws {
            if let session { try checked(session: session) }
        }

        func run() throws {
            let stage = "mira-memory summarize"
            let store = memory.memory(stage: stage)
            let summarizer: Summarizer
            do {
                summarizer = try MemoryServices.summarizer(memory: store, environment: .process)
            } catch {
                fatal(stage: stage, error.message, status: .usage)
            }
            do {
                var sessions = session.map { [$0] } ?? []
                if session == nil { sessions = try store.sessionIDs() }
                for id in sessions {
                    // One summary covers at most a batch: go on while they move forward.
                    var through: Int64 = 0
                    while let summary = try summarizer.summarize(session: id, force: force), summary.lastMessage > through {
                        through = summary.lastMessage
                        say("\(id)\t\(shown(summary.text, width: 200))", stage: stage)
                    }
                }
            } catch {
                fatal(stage: stage, error.message, status: error.code.exitStatus)
            }
        }
    }
}

/// A session id from the command line, checked before anything is opened.
func checked(session id: String) throws {
    do {
        try Identifiers.validateSession(id)
    } catch {
        throw ValidationError(error.message)
    }
}
