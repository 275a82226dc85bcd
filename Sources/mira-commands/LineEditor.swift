#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CEditLine
import MiraSystem

/// What a person typed at the chat prompt.
enum TypedLine: Equatable {
    case line(String)
    /// Ctrl-C at the prompt: the line is dropped, the chat goes on.
    case interrupted
    /// Ctrl-D on an empty line, or the end of piped input.
    case end
    /// A line that cannot be sent: the reason (not UTF-8, over the length limit).
    case refused(String)
    /// The input itself failed: the reason; the chat ends.
    case unreadable(String)
}

/// The chat's prompt: libedit's line editing and input history on a
/// terminal (emacs keys, or what ~/.editrc sets), plain lines otherwise, so
/// `printf 'hi\n/quit\n' | mira chat` works too. libedit is opened here, not
/// linked, so a one-turn `mira` does not pay for loading it.
final class LineEditor {
    /// libedit's functions, filled when it is opened.
    let api = UnsafeMutablePointer<mira_editline>.allocate(capacity: 1)
    var editor: OpaquePointer?
    var history: OpaquePointer?
    let historyPath: String?
    var reader = LineReader()
    /// Why the terminal gets plain lines, to say once; nil when libedit runs
    /// or when there is no terminal to edit on.
    private(set) var unavailable: String?

    /// The prompt libedit asks for through a C callback, which can carry no
    /// context: one chat, one prompt, per process.
    nonisolated(unsafe) static var prompt: UnsafeMutablePointer<CChar>?

    init(program: String, historyPath: String?) {
        self.historyPath = historyPath
        api.initialize(to: mira_editline())
        guard Files.isTerminal(0) && Files.isTerminal(1) else { return }
        guard mira_editline_open(api) == 0 else {
            unavailable = "line editing is off: libedit.so.2 cannot be loaded (Debian: apt-get install libedit2)"
            return
        }
        // libedit decodes and shows UTF-8 only under a UTF-8 locale.
        setlocale(LC_CTYPE, "")
        guard let editor = mira_el_init(api, program), let history = mira_history_init(api) else {
            unavailable = "line editing is off: libedit could not set up the terminal"
            return
        }
        self.editor = editor
        self.history = history
        mira_history_set_size(api, history, 1000)
        mira_history_set_unique(api, history, 1)
        if let historyPath { mira_history_load(api, history, historyPath) }
        mira_el_set_editor(api, editor, "emacs")
        mira_el_set_signal(api, editor, 0)
        mira_el_set_history(api, editor, history)
        mira_el_set_prompt(api, editor) { _ in LineEditor.prompt }
        mira_el_source(api, editor, nil)  // the person's ~/.editrc, if any
    }

    deinit {
        if let history {
            if let historyPath { mira_history_save(api, history, historyPath) }
            mira_history_end(api, history)
        }
        if let editor { mira_el_end(api, editor) }
        api.deallocate()
    }

    /// One line, without its line break.
    func read(prompt: String) -> TypedLine {
        guard let editor else { return readPlain() }
        free(Self.prompt)
        Self.prompt = strdup(prompt)
        var count: Int32 = 0
        guard let line = mira_el_gets(api, editor, &count) else {
            // Interrupted by a signal (Ctrl-C): libedit returns no line.
            return count < 0 && errno == EINTR ? .interrupted : .end
        }
        var bytes = Array(UnsafeBufferPointer(start: UnsafeRawPointer(line).assumingMemoryBound(to: UInt8.self), count: strlen(line)))
        if bytes.last == 0x0A { bytes.removeLast() }
        return Self.typed(bytes)
    }

    /// A line's bytes as a message: only UTF-8 text is sent, as it is; a
    /// line that is not would be changed by repairing it, so it is refused.
    static func typed(_ bytes: [UInt8]) -> TypedLine {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .refused("that line is not UTF-8 text (check the terminal's encoding); not sent")
        }
        return .line(text)
    }

    /// Keeps a line in the input history (Up brings it back; saved on exit).
    func remember(_ line: String) {
        guard let history, !line.isEmpty else { return }
        mira_history_enter(api, history, line)
    }

    func readPlain() -> TypedLine {
        var piece = reader.next()
        if case .line(var bytes)? = piece, bytes.last == 0x0D {
            bytes.removeLast()  // a CRLF line's CR is not part of the message
            piece = .line(bytes)
        }
        switch piece {
        case .line(let bytes)?: return Self.typed(bytes)
        case .tooLong(let bytes, let limit)?:
            return .refused("line \(reader.lineNumber) of \(bytes) bytes is over the \(limit)-byte limit; not sent")
        case nil:
            if let problem = reader.readError { return .unreadable("cannot read standard input: \(problem)") }
            return .end
        }
    }
}
