import Hummingbird

/// The page at `/`: plain HTML, CSS and JS, no build step. The model's words
/// are untrusted, so they only ever go in as text (`textContent`), and the
/// Content-Security-Policy allows nothing but this server's own script,
/// style and requests: no inline script, no other origin, no framing.
enum Page {
    static let policy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    static func response(_ text: String, type: String) -> Response {
        let headers: HTTPFields = [
            .contentType: type, .contentSecurityPolicy: policy, .cacheControl: "no-cache",
            .xContentTypeOptions: "nosniff",
        ]
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Mira</title>
        <link rel="stylesheet" href="/app.css">
        <script src="/app.js" defer></script>
        </head>
        <body>
        <header><h1>Mira</h1><button id="new" type="button">New conversation</button></header>
        <main id="log" aria-live="polite"></main>
        <p id="status" role="status"></p>
        <form id="say"><textarea id="message" rows="2" placeholder="Say something" required></textarea><button type="submit">Send</button></form>
        </body>
        </html>

        """

    static let css = """
        body { font: 16px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 42rem; padding: 0 1rem; }
        header { display: flex; align-items: center; justify-content: space-between; }
        .message { margin: .6rem 0; white-space: pre-wrap; overflow-wrap: anywhere; }
        .user { text-align: right; color: #333; }
        .note { color: #777; font-size: .8rem; }
        #status { color: #a33; min-height: 1.2em; }
        form { display: flex; gap: .5rem; position: sticky; bottom: 0; background: #fff; padding: .5rem 0; }
        textarea { flex: 1; font: inherit; }

        """

    /// Streams a turn from `POST /chat?stream=1` and shows each piece as text.
    static let script = """
        "use strict";
        let session = null;
        const log = document.getElementById("log");
        const status = document.getElementById("status");

        function add(role, text, note) {
          const item = document.createElement("div");
          item.className = "message " + role;
          item.textContent = text;
          if (note) {
            const small = document.createElement("div");
            small.className = "note";
            small.textContent = note;
            item.appendChild(small);
          }
          log.appendChild(item);
          item.scrollIntoView({block: "end"});
          return item;
        }

        async function load() {
          const answer = await fetch("/sessions");
          const sessions = (await answer.json()).sessions || [];
          if (sessions.length === 0) return;
          session = sessions[0].session;
          const history = await (await fetch("/history?session=" + encodeURIComponent(session))).json();
          log.replaceChildren();
          for (const m of history.messages || []) {
            add(m.role, m.content, m.role === "assistant" ? m.persona + " · " + m.mood : "");
          }
        }

        async function send(text) {
          add("user", text);
          const reply = add("assistant", "");
          status.textContent = "Mira is writing…";
          const body = {message: text};
          if (session) body.session = session;
          try {
            const answer = await fetch("/chat?stream=1", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
            if (!answer.ok) {
              const problem = await answer.json();
              throw new Error(problem.error ? problem.error.message : answer.statusText);
            }
            const reader = answer.body.pipeThrough(new TextDecoderStream()).getReader();
            let buffered = "";
            for (;;) {
              const {value, done} = await reader.read();
              if (done) break;
              buffered += value;
              let end;
              while ((end = buffered.indexOf("\\n\\n")) >= 0) {
                const block = buffered.slice(0, end);
                buffered = buffered.slice(end + 2);
                const name = (block.match(/^event: (.*)$/m) || [])[1];
                const data = JSON.parse((block.match(/^data: (.*)$/m) || [])[1] || "{}");
                if (name === "text") reply.textContent += data.text;
                if (name === "reply") {
                  session = data.session;
                  reply.textContent = data.output;
                  const note = document.createElement("div");
                  note.className = "note";
                  note.textContent = data.persona + " · " + data.mood;
                  reply.appendChild(note);
                  status.textContent = "";
                }
                if (name === "error") throw new Error(data.message);
              }
            }
          } catch (error) {
            reply.remove();
            status.textContent = "Not sent: " + error.message + " (your message is in the box: send it again).";
            document.getElementById("message").value = text;
          }
        }

        document.getElementById("say").addEventListener("submit", (event) => {
          event.preventDefault();
          const box = document.getElementById("message");
          const text = box.value.trim();
          if (!text) return;
          box.value = "";
          send(text);
        });

        document.getElementById("new").addEventListener("click", async () => {
          const answer = await fetch("/sessions", {method: "POST"});
          session = (await answer.json()).session;
          log.replaceChildren();
        });

        load().catch((error) => { status.textContent = "Could not load the conversation: " + error.message; });

        """
}
