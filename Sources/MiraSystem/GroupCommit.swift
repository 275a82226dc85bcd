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
    /// Guards the outcomes; callers wait here for theirs.
    private let done = Monitor()
    private var waiting: [Slot] = []
    /// At most this many items in one group (a bound on one transaction).
    let largest: Int

    final class Slot {
        let item: Item
        var outcome: Outcome?
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
        return done.locked {
            while slot.outcome == nil { done.wait() }
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
            let outcomes = handle(group.map(\.item))
            precondition(outcomes.count == group.count, "a group's handler must answer every item")
            done.locked {
                for (slot, outcome) in zip(group, outcomes) { slot.outcome = outcome }
                done.broadcast()
            }
        }
    }
}
