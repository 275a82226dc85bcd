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
}

/// The chat's prompt: libedit's line editing and input history on a
/// terminal (emacs keys, or what ~/.editrc sets), plain lines otherwise, so
/// `printf 'hi\n/quit\n' | mira chat` works too.
final class LineEditor {
    let editor: OpaquePointer?
    let history: OpaquePointer?
    let historyPath: String?
    var reader = LineReader()
    /// The C string the prompt callback hands libedit.
    var promptText: UnsafeMutablePointer<CChar>?

    /// Why the terminal gets plain lines (libedit could not be loaded), to say once.
    private(set) var unavailable: String?

    init(program: String, historyPath: String?) {
        self.historyPath = historyPath
        guard Files.isTerminal(0) && Files.isTerminal(1) else {
            editor = nil
            history = nil
            return
        }
        guard mira_editline_open() == 0 else {
            editor = nil
            history = nil
            unavailable = "line editing is off: libedit.so.2 cannot be loaded (Debian: apt-get install libedit2)"
            return
        }
        // libedit decodes and shows UTF-8 only under a UTF-8 locale.
        setlocale(LC_CTYPE, "")
        let editor = mira_el_init(program)
        let history = mira_history_init()
        self.editor = editor
        self.history = history
        guard let editor, let history else { return }
        mira_history_set_size(history, 1000)
        mira_history_set_unique(history, 1)
        if let historyPath { mira_history_load(history, historyPath) }
        mira_el_set_editor(editor, "emacs")
        mira_el_set_signal(editor, 0)
        mira_el_set_history(editor, history)
        mira_el_set_clientdata(editor, Unmanaged.passUnretained(self).toOpaque())
        mira_el_set_prompt(editor) { editor in
            let owner = Unmanaged<LineEditor>.fromOpaque(mira_el_get_clientdata(editor)!).takeUnretainedValue()
            return owner.promptText
        }
        mira_el_source(editor, nil)  // the person's ~/.editrc, if any
    }

    deinit {
        if let history {
            if let historyPath { mira_history_save(history, historyPath) }
            mira_history_end(history)
        }
        if let editor { mira_el_end(editor) }
        free(promptText)
    }

    /// One line, without its line break.
    func read(prompt: String) -> TypedLine {
        guard let editor else { return readPlain() }
        free(promptText)
        promptText = strdup(prompt)
        var count: Int32 = 0
        guard let line = mira_el_gets(editor, &count) else {
            // Interrupted by a signal (Ctrl-C): libedit returns no line.
            return count < 0 && errno == EINTR ? .interrupted : .end
        }
        var text = String(cString: line)
        if text.hasSuffix("\n") { text.removeLast() }
        return .line(text)
    }

    /// Keeps a line in the input history (Up brings it back; saved on exit).
    func remember(_ line: String) {
        guard let history, !line.isEmpty else { return }
        mira_history_enter(history, line)
    }

    func readPlain() -> TypedLine {
        switch reader.next() {
        case .line(let bytes)?: return .line(String(decoding: bytes, as: UTF8.self))
        default: return .end
        }
    }
}
