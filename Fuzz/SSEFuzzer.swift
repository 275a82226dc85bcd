import MiraBatch
import MiraLLM
import MiraPrompt
import MiraShared

// Target `sse`: a streamed answer, cut into pieces the way the network may
// cut it (inside a line, between CR and LF, inside a UTF-8 character).
// Input: 1 flag byte (bit 0: json-schema request), 4 piece lengths (cycled;
// 0 counts as 1), then the stream bytes.

func fuzzStream(_ bytes: [UInt8]) {
    var input = FuzzInput(bytes)
    let flags = input.byte()
    let lengths = (0..<4).map { _ in max(1, Int(input.byte())) }
    let stream = input.rest
    let request = flags & 1 == 0 ? toolsRequest : jsonSchemaRequest

    var parser = SSEParser()
    var events: [SSEEvent] = []
    var start = 0, piece = 0
    while start < stream.count {
        let end = min(stream.count, start + lengths[piece % lengths.count])
        events += parser.feed(stream[start..<end])
        start = end
        piece += 1
    }
    // Where the cuts fall must not change what the stream says.
    var whole = SSEParser()
    check(whole.feed(stream) == events, "the SSE events depend on where the stream was cut")
    check(whole.finish() == parser.finish(), "the last SSE event depends on where the stream was cut")

    var assembler = StreamAssembler()
    for event in events {
        switch event {
        case .error(let text):
            // The server's error event must become a verdict, never a crash.
            if case .success = CompletionReader.verdict(reportedError: ChatClient.errorObject(text)) {
                fatalError("an SSE error event was read as a reply")
            }
        case .data(let text):
            do {
                _ = try assembler.add(event: text)
            } catch {
                continue  // a bad event is a StageError, which is fine
            }
        }
    }
    let completion = assembler.completion()
    checkVerdict(CompletionReader.verdict(completion: completion, request: request), request: request)
}
