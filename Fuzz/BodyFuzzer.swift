import MiraBatch
import MiraLLM
import MiraPrompt
import MiraShared

// Target `body`: a response body from the server, read as the 2xx chat
// completion it should be and as the error answer of any other status.
// Input: 1 flag byte (bit 0: json-schema request; bits 1-2: x-should-retry
// absent/true/false), 2 bytes status (big-endian), then the body.

func fuzzResponseBody(_ bytes: [UInt8]) {
    var input = FuzzInput(bytes)
    let flags = input.byte()
    let status = input.uint16()
    let body = input.rest
    let request = flags & 1 == 0 ? toolsRequest : jsonSchemaRequest

    checkVerdict(CompletionReader.verdict(body: body, request: request), request: request)

    var headers: [String: String] = [:]
    switch flags >> 1 & 3 {
    case 1: headers["x-should-retry"] = "true"
    case 2: headers["x-should-retry"] = "false"
    default: break
    }
    // A 2xx never reaches this reader; any answer it gets must not succeed.
    let verdict = CompletionReader.verdict(status: status, headers: headers, body: body, now: 1_700_000_000)
    if case .success = verdict { fatalError("an error answer was read as a success") }
}
