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
    var events: [String] = []
    var start = 0, piece = 0
    while start < stream.count {
        let end = min(stream.count, start + lengths[piece % lengths.count])
        events += parser.feed(stream[start..<end])
        start = end
        piece += 1
    }
    parser.finish()

    // Where the cuts fall must not change what the stream says.
    var whole = SSEParser()
    check(whole.feed(stream) == events, "the SSE events depend on where the stream was cut")

    var assembler = StreamAssembler()
    for event in events {
        do {
            _ = try assembler.add(event: event)
        } catch {
            continue  // a bad event is a StageError, which is fine
        }
    }
    let completion = assembler.completion()
    checkVerdict(CompletionReader.verdict(completion: completion, request: request), request: request)
}
