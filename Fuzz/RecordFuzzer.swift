// libFuzzer target for the record parser: any bytes at all must either parse
// into a record that writes back out and parses again to the same record, or
// fail with a StageError. A crash, hang or leak here is a bug.
// Built by `make fuzz` (swiftc -sanitize=fuzzer), not by SwiftPM.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecordLine(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let line = Array(UnsafeBufferPointer(start: data, count: size))
    guard let record = try? Record(line: line) else { return 0 }
    let again = try? Record(line: record.line)
    precondition(again == record, "a parsed record did not survive writing and parsing again")
    _ = try? record.history()
    _ = try? record.reply()
    return 0
}
