/// Many threads' items handled in groups by one thread: each caller hands
/// in an item and blocks until its own outcome comes back; the group's
/// thread takes every item waiting at once and hands them to `handle`
/// together. For saves: 200 turns finishing together become a few
/// transactions, one commit and one `fdatasync` each, instead of 200 in a
/// line (mira-serve; docs/http.md).
package final class GroupCommit<Item, Outcome>: @unchecked Sendable {
    private let handle: ([Item]) -> [Outcome]
    /// Guards `waiting`; the group's thread waits here for items.
    private let intake = Monitor()
    private var waiting: [Slot] = []
    /// At most this many items in one group (a bound on one transaction).
    let largest: Int

    /// One caller's item and, once handled, its outcome. Each caller waits
    /// on its own slot: one shared condition woke all 200 waiting threads
    /// for every group, and each went back to sleep but a few.
    final class Slot {
        let item: Item
        /// Guarded by `ready`.
        var outcome: Outcome?
        let ready = Monitor()
        init(_ item: Item) { self.item = item }
    }

    /// `handle` gets the items of a group in the order they came and
    /// returns one outcome for each, in the same order.
    package init(largest: Int = 512, handle: @escaping ([Item]) -> [Outcome]) {
        self.handle = handle
        self.largest = max(1, largest)
        startThread { [self] in self.run() }
    }

    /// Hands `item` in and waits for its outcome.
    package func submit(_ item: Item) -> Outcome {
        let slot = Slot(item)
        intake.locked {
            waiting.append(slot)
            intake.signal()
        }
        return slot.ready.locked {
            while slot.outcome == nil { slot.ready.wait() }
            return slot.outcome!
        }
    }

    private func run() {
        while true {
            let group = intake.locked { () -> [Slot] in
                while waiting.isEmpty { intake.wait() }
                let taken = Array(waiting.prefix(largest))
                waiting.removeFirst(taken.count)
                return taken
            }
            // A closure, not `\.item`: in a generic class the key path is
            // built at run time, which cost this thread a fifth of its time.
            let outcomes = handle(group.map { $0.item })
            precondition(outcomes.count == group.count, "a group's handler must answer every item")
            for (slot, outcome) in zip(group, outcomes) {
                slot.ready.locked {
                    slot.outcome = outcome
                    slot.ready.signal()
                }
            }
        }
    }
}
