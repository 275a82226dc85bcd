// One libFuzzer binary for every target: the core takes minutes to compile,
// so `make fuzz` builds it once and picks the target per run with
// MIRA_FUZZ_TARGET (record, body, sse, headers, retry-after).
// Built by `make fuzz` (swiftc -sanitize=fuzzer,address), not by SwiftPM.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiraBatch
import MiraLLM
import MiraPrompt
import MiraShared

let fuzzTargets: [String: ([UInt8]) -> Void] = [
    "record": fuzzRecordLine,
    "body": fuzzResponseBody,
    "sse": fuzzStream,
    "headers": fuzzHeaders,
    "retry-after": fuzzRetryAfter,
]

// Set once before the first input; libFuzzer runs inputs on one thread.
nonisolated(unsafe) var selectedTarget: ([UInt8]) -> Void = { _ in }

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> Int32 {
    let name = getenv("MIRA_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = fuzzTargets[name] else {
        // Fail loudly: a typo must not fuzz nothing and report success.
        fputs("set MIRA_FUZZ_TARGET to one of: \(fuzzTargets.keys.sorted().joined(separator: ", "))\n", stderr)
        exit(2)
    }
    selectedTarget = target
    return 0
}

/// A property every input must keep. Not `precondition`: under -O that
/// traps without its message, and the message is what the crash log needs.
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    selectedTarget(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
