extension Page {
    /// The page's behaviour over the JSON API (docs/http.md). Every text
    /// from the model or the person goes in with `textContent`, never as HTML.
    static let script = #"""
        "use strict";
        const $ = (id) => document.getElementById(id);
        const box = $("message");
        let session = null;   // the conversation the next turn goes to
        let busy = false;     // one turn at a time
        let failed = null;    // the message of the turn that failed, for Retry

        // MARK: The API

        // A fetch that turns the API's JSON error into an Error with its message.
        async function api(path, options) {
          const answer = await fetch(path, options);
          if (answer.ok) return answer.status === 204 ? null : answer;
          let message = answer.status + " " + answer.statusText;
          try {
            const problem = await answer.json();
            if (problem.error && problem.error.message) message = problem.error.message;
          } catch (_) { /* not JSON: keep the status line */ }
          throw new Error(message);  // the API's messages say what to do (a 429's, how long to wait)
        }

        async function getJSON(path) {
          return (await api(path)).json();
        }

        function postJSON(path, body, extra) {
          return api(path + (extra || ""), {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
        }

        // Server-sent events from a streamed answer: calls onEvent(name, data)
        // for each; if onEvent throws, reading stops and the error goes on.
        async function readEvents(answer, onEvent) {
          const reader = answer.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffered = "";
          try {
            for (;;) {
              const {value, done} = await reader.read();
              if (done) return;
              buffered += value;
              let end;
              while ((end = buffered.indexOf("\n\n")) >= 0) {
                const block = buffered.slice(0, end);
                buffered = buffered.slice(end + 2);
                let name = "message", data = "";
                for (const line of block.split("\n")) {
                  if (line.startsWith("event: ")) name = line.slice(7);
                  if (line.startsWith("data: ")) data += line.slice(6);
                }
                onEvent(name, data ? JSON.parse(data) : {});
              }
            }
          } catch (error) {
            reader.cancel().catch(() => {});
            throw error;
          }
        }

        // MARK: The conversation

        function element(tag, className, text) {
          const node = document.createElement(tag);
          if (className) node.className = className;
          if (text !== undefined) node.textContent = text;
          return node;
        }

        // One message in the log; Mira's carry a quiet "persona · mood" line.
        function addMessage(role, text) {
          const item = element("div", "message " + role);
          item.appendChild(element("span", "text", text));
          $("log").appendChild(item);
          item.scrollIntoView({block: "end"});
          return item;
        }

        function addNote(item, persona, mood) {
          item.appendChild(element("div", "quiet note", persona + " · " + mood));
        }

        async function openConversation(id) {
          const history = await getJSON("/history?session=" + encodeURIComponent(id));
          session = id;
          localStorage.setItem("mira.session", id);
          $("log").replaceChildren();
          for (const m of history.messages || []) {
            const item = addMessage(m.role, m.content);
            if (m.role === "assistant") addNote(item, m.persona, m.mood);
          }
          markCurrent();
        }

        function showProblem(text) {
          $("problem-text").textContent = text;
          $("problem").hidden = false;
        }

        // One turn, streamed: the typing line until the first words, the reply
        // growing as they come, then persona and mood under it. On failure the
        // message stays (in the box and marked unsent) and Retry sends it again.
        async function send(text) {
          if (busy) return;
          busy = true;
          $("send").disabled = $("retry").disabled = true;
          $("problem").hidden = true;
          for (const old of document.querySelectorAll(".unsent")) old.remove();
          const mine = addMessage("user", text);
          $("typing").hidden = false;
          let reply = null;
          const body = {message: text};
          if (session) body.session = session;
          const persona = $("persona").value;
          if (persona) body.persona = persona;
          try {
            const answer = await postJSON("/chat", body, "?stream=1");
            let finished = false;
            await readEvents(answer, (name, data) => {
              if (name === "text" || name === "reply") {
                $("typing").hidden = true;
                if (!reply) reply = addMessage("assistant", "");
              }
              if (name === "text") {
                reply.firstChild.textContent += data.text;
                reply.scrollIntoView({block: "end"});
              } else if (name === "reply") {
                finished = true;
                session = data.session;
                localStorage.setItem("mira.session", session);
                reply.firstChild.textContent = data.output;
                addNote(reply, data.persona, data.mood);
              } else if (name === "error") {
                throw new Error(data.message || data.code || "the turn failed");
              }
            });
            if (!finished) throw new Error("the answer ended before Mira's reply was complete");
            failed = null;
            if (box.value.trim() === text) box.value = "";  // a retried message leaves the box
          } catch (error) {
            if (reply) reply.remove();
            mine.classList.add("unsent");
            failed = text;
            if (!box.value.trim()) box.value = text;
            showProblem("Not sent: " + error.message.replace(/\.$/, "") + ". Your message is back in the box.");
          } finally {
            $("typing").hidden = true;
            busy = false;
            $("send").disabled = $("retry").disabled = false;
          }
          refreshSide();
        }

        // MARK: The side panel

        function markCurrent() {
          for (const button of document.querySelectorAll(".conversation")) {
            button.setAttribute("aria-current", String(button.dataset.session === session));
          }
        }

        async function loadConversations() {
          // The most recent 100: the owner's may be thousands (`mira sessions` lists them all).
          const list = (await getJSON("/sessions?limit=100")).sessions || [];
          const items = list.map((s) => {
            const li = element("li");
            const button = element("button", "conversation", s.title || "(empty conversation)");
            button.type = "button";
            button.dataset.session = s.session;
            button.addEventListener("click", () => {
              if (busy) return;
              openConversation(s.session).catch((e) => showProblem("Could not open it: " + e.message));
              document.body.classList.remove("panels-open");
            });
            li.appendChild(button);
            li.appendChild(deleteButton(s));
            return li;
          });
          $("conversations").replaceChildren(...items);
          markCurrent();
          return list;
        }

        // Deletes a conversation for good (and what Mira kept of it), once the person confirms.
        function deleteButton(s) {
          const button = element("button", "delete", "Delete");
          button.type = "button";
          button.setAttribute("aria-label", "Delete " + (s.title || "the empty conversation"));
          button.addEventListener("click", async () => {
            if (busy || !confirm("Delete this conversation, and what Mira kept of it, for good?")) return;
            button.disabled = true;
            try {
              await api("/sessions/" + encodeURIComponent(s.session), {method: "DELETE"});
              if (s.session === session) {
                session = null;
                localStorage.removeItem("mira.session");
                $("log").replaceChildren();
              }
            } catch (e) {
              showProblem("Could not delete it: " + e.message);
            }
            refreshSide();
          });
          return button;
        }

        function memoryItem(text, quiet, path) {
          const li = element("li");
          li.appendChild(element("span", "", text));
          if (quiet) li.appendChild(element("span", "quiet", quiet));
          const forget = element("button", "forget", "Forget");
          forget.type = "button";
          forget.addEventListener("click", async () => {
            forget.disabled = true;
            try {
              await api(path, {method: "DELETE"});
            } catch (e) {
              showProblem("Could not forget it: " + e.message);
            }
            loadMemory();
          });
          li.appendChild(forget);
          return li;
        }

        async function loadMemory() {
          let memory;
          try {
            memory = await getJSON("/memory");
          } catch (_) {
            $("memory").hidden = true;  // a server without the memory view
            return;
          }
          $("memory").hidden = false;
          const facts = (memory.facts || []).map((f) => memoryItem(f.text, f.topic, "/memory/facts/" + f.id));
          const summaries = (memory.summaries || []).map((s) => memoryItem(s.text, "summary", "/memory/summaries/" + s.id));
          $("facts").replaceChildren(...facts);
          $("summaries").replaceChildren(...summaries);
          $("memory-empty").hidden = facts.length + summaries.length > 0;
        }

        function refreshSide() {
          loadConversations().catch(() => {});
          loadMemory();
        }

        async function loadPersonas() {
          const select = $("persona");
          const saved = localStorage.getItem("mira.persona") || "";
          try {
            for (const p of (await getJSON("/personas")).personas || []) {
              const option = element("option", "", p.name);
              option.value = p.name;
              if (p.summary) option.title = p.summary;
              select.appendChild(option);
            }
          } catch (_) { /* a server without the list: only "auto" */ }
          if ([...select.options].some((o) => o.value === saved)) select.value = saved;
        }

        // MARK: Wiring

        $("say").addEventListener("submit", (event) => {
          event.preventDefault();
          const text = box.value.trim();
          if (!text || busy) return;
          box.value = "";
          send(text);
        });

        box.addEventListener("keydown", (event) => {
          if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            $("say").requestSubmit();
          }
        });

        $("retry").addEventListener("click", () => {
          if (failed !== null) send(failed);
        });

        $("persona").addEventListener("change", () => {
          localStorage.setItem("mira.persona", $("persona").value);
        });

        $("new").addEventListener("click", async () => {
          if (busy) return;
          try {
            session = (await (await postJSON("/sessions", {})).json()).session;
            localStorage.setItem("mira.session", session);
            $("log").replaceChildren();
            $("problem").hidden = true;
            document.body.classList.remove("panels-open");
            await loadConversations();
            box.focus();
          } catch (e) {
            showProblem("Could not start a conversation: " + e.message);
          }
        });

        $("panels").addEventListener("click", () => {
          const open = document.body.classList.toggle("panels-open");
          $("panels").setAttribute("aria-expanded", String(open));
        });

        // The conversation last used in this browser, else the most recent one.
        async function openLatest() {
          const list = await loadConversations();
          const saved = localStorage.getItem("mira.session");
          const chosen = list.find((s) => s.session === saved) || list[0];
          if (chosen) await openConversation(chosen.session);
        }

        async function start() {
          await Promise.all([loadPersonas(), loadMemory(), openLatest()]);
        }

        // data-ready tells a watcher (and the browser tests) that loading is over.
        start()
          .catch((error) => showProblem("Could not load the conversation: " + error.message))
          .finally(() => { document.body.dataset.ready = "true"; });

        """#
}
