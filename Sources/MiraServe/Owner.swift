import MiraSQLite
import MiraSystem

/// The person who runs mira-serve is the person at the command line: their
/// browser may see and go on with the conversations `mira` has (the local
/// realm, see `Realm`). They prove it with a link only their terminal
/// shows: `/own?key=KEY`, a key made afresh each run. Opening it gives the
/// browser the owner's identity, kept in the state folder so it stays the
/// owner's across restarts. Every other browser is a stranger with a realm
/// of its own.
package struct Owner: Sendable {
    /// The owner's cookie value (64 hex digits, as any identity).
    let identity: String
    /// What `/own?key=` must carry this run.
    let key: String

    /// Reads the owner identity from `file` (`$XDG_STATE_HOME/mira/serve-owner`),
    /// or makes and saves one (0600). nil when it can be neither read nor
    /// saved: there is then no owner link, and every browser is a stranger.
    package static func load(file: String) -> Owner? {
        // Twice at most: when another mira-serve made the file between our
        // read and our write, its identity is the one to keep (two servers
        // started together must not give the owner two identities).
        for _ in 0..<2 {
            if let bytes = Files.read(path: file, limit: 256) {
                let text = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
                if Identity.isWellFormed(text) { return Owner(identity: text, key: Identity.make()) }
                // Not ours to keep (damaged, or not an identity): made afresh.
                let made = Identity.make()
                guard case .success = Files.replace(path: file, with: Array((made + "\n").utf8), mode: 0o600) else { return nil }
                return Owner(identity: made, key: Identity.make())
            }
            let made = Identity.make()
            let folder = String(file[..<(file.lastIndex(of: "/") ?? file.startIndex)])
            guard folder.isEmpty || Files.makeDirectories(folder) else { return nil }
            switch Files.create(path: file, with: Array((made + "\n").utf8), mode: 0o600) {
            case .success(true): return Owner(identity: made, key: Identity.make())
            case .success(false): continue
            case .failure:
                // A file system without hard links: written whole by renaming,
                // as before (servers started together may then disagree).
                guard case .success = Files.replace(path: file, with: Array((made + "\n").utf8), mode: 0o600) else { return nil }
                return Owner(identity: made, key: Identity.make())
            }
        }
        return nil
    }

    /// The realm a browser's cookie stands for.
    func realm(of identity: String) -> Realm {
        Self.same(identity, self.identity) ? .local : .browser(identity)
    }

    /// Whether `given` is this run's key.
    func accepts(_ given: String) -> Bool { Self.same(given, key) }

    /// Compares without stopping at the first difference, so the time taken
    /// says nothing about how much of a guess was right.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
