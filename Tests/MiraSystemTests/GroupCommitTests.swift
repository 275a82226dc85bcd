import MiraSystem
import Synchronization
import Testing

@Suite struct GroupCommitTests {
    /// Items handed in while a group is being handled go in together in the
    /// next one, and each caller gets its own item's outcome.
    @Test func itemsWaitingWhileAGroupRunsAreHandledTogetherAndEachGetsItsOwnOutcome() throws {
        let gate = Monitor()
        let state = Mutex<(open: Bool, groups: [[Int]])>((false, []))
        let group = GroupCommit<Int, Int> { items in
            state.withLock { $0.groups.append(items) }
            // The first group waits until the test lets it go.
            gate.locked { while !state.withLock({ $0.open }) { gate.wait(milliseconds: 10) } }
            return items.map { $0 * 10 }
        }
        let results = Mutex<[Int: Int]>([:])
        let finished = Monitor()
        func submit(_ n: Int) {
            startThread {
                let outcome = group.submit(n)
                results.withLock { $0[n] = outcome }
                finished.locked { finished.broadcast() }
            }
        }
        submit(0)
        // Wait until the first group (item 0 alone) is being handled, then queue 19 more behind it.
        while state.withLock({ $0.groups.count }) == 0 { SystemTime.sleep(milliseconds: 1) }
        for n in 1...19 { submit(n) }
        // Give the 19 threads time to hand their items in; the group cannot finish meanwhile.
        SystemTime.sleep(milliseconds: 300)
        state.withLock { $0.open = true }
        finished.locked {
            while results.withLock({ $0.count }) < 20 { finished.wait(milliseconds: 50) }
        }
        let groups = state.withLock { $0.groups }
        #expect(groups.first == [0])
        #expect(groups.count == 2, "\(groups)")
        #expect(Set(groups.last ?? []) == Set(1...19))
        #expect(results.withLock { $0 } == Dictionary(uniqueKeysWithValues: (0...19).map { ($0, $0 * 10) }))
    }
}
