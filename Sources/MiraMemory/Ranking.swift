/// How recall weighs and cuts what it found. Every default is documented
/// here and nowhere else.
package struct RankingParameters: Equatable, Sendable {
    /// Reciprocal rank fusion's constant: a hit at rank r (counted from 1)
    /// in one ranking adds 1 / (fusionK + r); larger flattens the difference
    /// between first and tenth place. Not the usual 60 (tuned for fusing many
    /// rankings 1,000 deep): with two rankings of 50, 60 lets a message both
    /// found anywhere (2 / 110) beat a lone first place (1 / 61), so weak
    /// keyword matches on common words outranked the vector ranking's best.
    package var fusionK: Double = 20
    /// What a place in the keyword ranking counts against the same place in
    /// the vector ranking. The keyword ranking ORs the query's words, so
    /// its first places are often a shared ordinary word, not the answer;
    /// the vector ranking's are about meaning.
    ///
    /// fusionK and keywordWeight were chosen together for the fused
    /// ranking's own recall (the one recall uses), over k 5-30 and weights
    /// 0.35-1 on bench/memory's quality set: 20 and 0.7 found the most
    /// facts at @1 and @5 (bench/memory/RESULTS.md has the grid).
    package var keywordWeight: Double = 0.7
    /// The recency bonus halves every this many days.
    package var recencyHalfLifeDays: Double = 30
    /// The bonus of a message from just now, as a fraction of one first
    /// place (1 / (fusionK + 1)): 0.5 means "worth half a first place".
    /// 0 turns recency off. A message is only ever boosted if it was found
    /// by at least one of the rankings. Recency breaks near ties: 0.1 lets
    /// today's message pass one a place or two ahead of it near the top.
    /// (0.5 with fusionK 60 was more than the gap between first and fiftieth
    /// place, so any recent candidate beat the best old match.)
    package var recencyWeight: Double = 0.1
    /// At most this many memories (`--top`).
    package var top: Int = 8
    /// At most this many estimated tokens of memory text (`--budget`); see `Tokens.estimate`.
    package var budget: Int = 800
    /// Two facts whose vectors have at least this cosine are the same fact
    /// said twice (all-MiniLM paraphrases score about 0.8-0.95).
    package var factMergeThreshold: Float = 0.9

    package init() {}
}

/// A found memory with its fused score and where each ranking put it.
package struct RankedMemory: Equatable, Sendable {
    package var id: Int64
    package var score: Double
    /// 1-based place in the vector ranking; nil when it was not there.
    package var vectorRank: Int?
    /// 1-based place in the keyword ranking; nil when it was not there.
    package var keywordRank: Int?
}

package enum Tokens {
    /// Tokens estimated as UTF-8 bytes / 4, rounded up: about right for
    /// English with GPT-style tokenizers, and an over-estimate for most
    /// other scripts (whose characters take 2-4 bytes), so a budget is not overrun.
    package static func estimate(_ text: String) -> Int {
        (text.utf8.count + 3) / 4
    }
}

package enum Ranking {
    /// Reciprocal rank fusion of two rankings (best first): each id scores
    /// the sum of 1 / (k + rank) over the rankings it is in.
    package static func fuse(vector: [Int64], keyword: [Int64], k: Double = 60, keywordWeight: Double = 1) -> [Int64: Double] {
        var scores: [Int64: Double] = [:]
        for (place, id) in vector.enumerated() { scores[id, default: 0] += 1 / (k + Double(place + 1)) }
        for (place, id) in keyword.enumerated() { scores[id, default: 0] += keywordWeight / (k + Double(place + 1)) }
        return scores
    }

    /// The bonus for a message `ageDays` old: `recencyWeight` of a first
    /// place, halving every `recencyHalfLifeDays`. A time in the future
    /// (a skewed clock) counts as now; an unknown age gets no bonus.
    package static func recencyBonus(ageDays: Double?, _ p: RankingParameters) -> Double {
        guard let ageDays, ageDays.isFinite, p.recencyWeight > 0, p.recencyHalfLifeDays > 0 else { return 0 }
        let firstPlace = 1 / (p.fusionK + 1)
        return p.recencyWeight * firstPlace * pow2(-max(0, ageDays) / p.recencyHalfLifeDays)
    }

    /// Both rankings fused and weighed with recency, best first (on a tie,
    /// the newer message, i.e. the larger id). `ages` gives each id's age
    /// in days; missing ones get no bonus.
    package static func rank(vector: [Int64], keyword: [Int64], ages: [Int64: Double], _ p: RankingParameters) -> [RankedMemory] {
        let fused = fuse(vector: vector, keyword: keyword, k: p.fusionK, keywordWeight: p.keywordWeight)
        var vectorPlace: [Int64: Int] = [:]
        for (k, id) in vector.enumerated() where vectorPlace[id] == nil { vectorPlace[id] = k + 1 }
        var keywordPlace: [Int64: Int] = [:]
        for (k, id) in keyword.enumerated() where keywordPlace[id] == nil { keywordPlace[id] = k + 1 }
        let ranked = fused.map { id, score in
            RankedMemory(
                id: id, score: score + recencyBonus(ageDays: ages[id], p),
                vectorRank: vectorPlace[id], keywordRank: keywordPlace[id])
        }
        return ranked.sorted { $0.score != $1.score ? $0.score > $1.score : $0.id > $1.id }
    }

    /// The best memories that fit: walks the ranking in order and keeps each
    /// one whose estimated tokens still fit in what is left of `budget` (one
    /// too big is skipped, a smaller one after it may still fit), until
    /// `top` are kept. Ids without a token count are skipped.
    package static func select(_ ranked: [RankedMemory], tokens: [Int64: Int], budget: Int, top: Int) -> [RankedMemory] {
        var left = budget
        var kept: [RankedMemory] = []
        for memory in ranked {
            guard kept.count < top else { break }
            guard let cost = tokens[memory.id], cost <= left else { continue }
            kept.append(memory)
            left -= cost
        }
        return kept
    }

    /// 2^x without libm (this module uses no libc): exact for integer
    /// parts, a short series for the fraction; plenty for a bonus.
    static func pow2(_ x: Double) -> Double {
        guard x > -1000 else { return 0 }
        let whole = x.rounded(.down)
        let fraction = x - whole
        // 2^f = e^(f ln 2), f in [0, 1): the series converges fast.
        let y = fraction * 0.693_147_180_559_945_3
        var term = 1.0, sum = 1.0
        for n in 1...16 {
            term *= y / Double(n)
            sum += term
        }
        var scale = 1.0
        var e = Int(whole)
        var base = e < 0 ? 0.5 : 2.0
        e = abs(e)
        while e > 0 {
            if e & 1 == 1 { scale *= base }
            base *= base
            e >>= 1
        }
        return sum * scale
    }
}
