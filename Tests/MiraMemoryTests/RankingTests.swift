import Testing
@testable import MiraMemory

@Suite struct RankFusion {
    @Test func eachRankingAddsOneOverKPlusRank() {
        let fused = Ranking.fuse(vector: [1, 2], keyword: [2, 3], k: 60)
        let first: Double = 1.0 / 61, second: Double = 1.0 / 62
        #expect(abs(fused[1]! - first) < 1e-12)
        #expect(abs(fused[2]! - (first + second)) < 1e-12)
        #expect(abs(fused[3]! - second) < 1e-12)
    }

    @Test func foundByBothBeatsFirstInOnlyOne() {
        var p = RankingParameters()
        p.recencyWeight = 0
        let ranked = Ranking.rank(vector: [10, 20, 30], keyword: [40, 30], ages: [:], p)
        #expect(ranked.first?.id == 30)
        #expect(ranked.first?.vectorRank == 3 && ranked.first?.keywordRank == 2)
        #expect(ranked.first(where: { $0.id == 40 })?.vectorRank == nil)
    }

    @Test func withoutRecencyEqualScoresGoToTheNewerMessage() {
        var p = RankingParameters()
        p.recencyWeight = 0
        p.keywordWeight = 1
        // 5 first in vectors, 9 first in keywords, both weighed alike: the same score.
        #expect(Ranking.rank(vector: [5], keyword: [9], ages: [:], p).map(\.id) == [9, 5])
    }

    @Test func aKeywordPlaceCountsLessThanAVectorPlaceByDefault() {
        var p = RankingParameters()
        p.recencyWeight = 0
        // A lone keyword first place loses to a lone vector first place...
        #expect(Ranking.rank(vector: [5], keyword: [9], ages: [:], p).map(\.id) == [5, 9])
        // ...and found by both, even lower, wins.
        let both = Ranking.rank(vector: [5, 7], keyword: [9, 7], ages: [:], p)
        #expect(both.first?.id == 7)
    }
}

@Suite struct RecencyWeighing {
    @Test func theBonusHalvesEveryHalfLife() {
        var p = RankingParameters()
        p.recencyHalfLifeDays = 10
        p.fusionK = 60
        p.recencyWeight = 0.5
        let now = Ranking.recencyBonus(ageDays: 0, p)
        let expected: Double = 0.5 / 61
        #expect(abs(now - expected) < 1e-12)
        let tenDays = Ranking.recencyBonus(ageDays: 10, p), twentyFive = Ranking.recencyBonus(ageDays: 25, p)
        #expect(abs(tenDays - now / 2) < 1e-9 * now)
        // 2^2.5 = 5.6568542495
        #expect(abs(twentyFive - now / 5.656_854_249_5) < 1e-6 * now)
    }

    @Test func futureTimesCountAsNowAndUnknownAgesGetNothing() {
        let p = RankingParameters()
        #expect(Ranking.recencyBonus(ageDays: -3, p) == Ranking.recencyBonus(ageDays: 0, p))
        #expect(Ranking.recencyBonus(ageDays: nil, p) == 0)
        #expect(Ranking.recencyBonus(ageDays: .nan, p) == 0)
    }

    @Test func aRecentMessageOvertakesAnOldOneAtANeighbouringRank() {
        let p = RankingParameters()
        let ranked = Ranking.rank(vector: [1, 2], keyword: [], ages: [1: 400, 2: 0], p)
        #expect(ranked.map(\.id) == [2, 1])
        var off = p
        off.recencyWeight = 0
        #expect(Ranking.rank(vector: [1, 2], keyword: [], ages: [1: 400, 2: 0], off).map(\.id) == [1, 2])
    }

    @Test func recencyNeverBringsInWhatNoRankingFound() {
        let ranked = Ranking.rank(vector: [1], keyword: [], ages: [1: 100, 2: 0], RankingParameters())
        #expect(ranked.map(\.id) == [1])
    }

    @Test func isoTimesReadAsEpochSeconds() {
        #expect(Recency.epochSeconds("1970-01-01T00:00:00Z") == 0)
        #expect(Recency.epochSeconds("2000-03-01T00:00:00.500Z") == 951_868_800.5)
        #expect(Recency.epochSeconds("2026-11-26T09:37:43.123Z").map { abs($0 - 1_795_685_863.123) < 1e-3 } == true)
        #expect(Recency.epochSeconds("2024-02-29T12:00:00+02:00") == 1_709_200_800)
        #expect(Recency.epochSeconds("yesterday") == nil)
        #expect(Recency.epochSeconds("2024-13-01T00:00:00Z") == nil)
        #expect(Recency.epochSeconds("2024-01-01T00:00:00Zjunk") == nil)
        #expect(Recency.ageDays("1970-01-02T00:00:00Z", now: 86_400 * 3) == 2)
    }
}

@Suite struct BudgetSelection {
    func memories(_ ids: [Int64]) -> [RankedMemory] {
        ids.enumerated().map { RankedMemory(id: $1, score: 1 - Double($0) / 100) }
    }

    @Test func tokensAreUTF8BytesOverFourRoundedUp() {
        #expect(Tokens.estimate("") == 0)
        #expect(Tokens.estimate("abcd") == 1)
        #expect(Tokens.estimate("abcde") == 2)
        #expect(Tokens.estimate("été") == 2)  // 5 bytes
    }

    @Test func keepsInRankOrderUntilTopK() {
        let kept = Ranking.select(memories([1, 2, 3, 4]), tokens: [1: 1, 2: 1, 3: 1, 4: 1], budget: 100, top: 2)
        #expect(kept.map(\.id) == [1, 2])
    }

    @Test func oneTooBigIsSkippedAndSmallerOnesAfterItStillFit() {
        let kept = Ranking.select(memories([1, 2, 3]), tokens: [1: 50, 2: 80, 3: 40], budget: 100, top: 10)
        #expect(kept.map(\.id) == [1, 3])
    }

    @Test func theBudgetIsNeverExceeded() {
        let ids = (1...50).map(Int64.init)
        let tokens = Dictionary(uniqueKeysWithValues: ids.map { ($0, Int($0 % 7) + 5) })
        let kept = Ranking.select(memories(ids), tokens: tokens, budget: 60, top: 50)
        #expect(kept.reduce(0) { $0 + tokens[$1.id]! } <= 60)
        #expect(!kept.isEmpty)
    }

    @Test func aZeroBudgetOrTopKeepsNothing() {
        #expect(Ranking.select(memories([1]), tokens: [1: 1], budget: 0, top: 5).isEmpty)
        #expect(Ranking.select(memories([1]), tokens: [1: 1], budget: 5, top: 0).isEmpty)
    }
}
