import MiraBatch
import MiraLLM
import MiraPrompt
import MiraShared

// libFuzzer target for the record parser: any bytes at all must either parse
// into a record that writes back out and parses again to the same record, or
// fail with a StageError. A crash, hang or leak here is a bug.
// Target `record` of the fuzzer in Main.swift.

func fuzzRecordLine(_ line: [UInt8]) {
    guard let record = try? Record(line: line) else { return }
    let again = try? Record(line: record.line)
    check(again == record, "a parsed record did not survive writing and parsing again")
    _ = try? record.history()
    _ = try? record.reply()
    // Recalled memories become a system message: the text built from any
    // memories that parse must come out whole.
    if let memories = try? record.memories() { _ = MemoryPrompt.text(memories) }
}
