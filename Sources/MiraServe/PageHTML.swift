extension Page {
    /// The page's skeleton: the conversation with its box, and a side panel
    /// (conversations, what Mira remembers) that folds away on a phone.
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
        <header>
          <h1>Mira</h1>
          <label class="persona">Persona <select id="persona"><option value="">auto</option></select></label>
          <button id="panels" type="button" aria-controls="side" aria-expanded="false">Conversations &amp; memory</button>
        </header>
        <div class="layout">
          <aside id="side">
            <section>
              <h2>Conversations</h2>
              <button id="new" type="button">New conversation</button>
              <ul id="conversations" class="list"></ul>
            </section>
            <section id="memory">
              <h2>What Mira remembers</h2>
              <ul id="facts" class="list"></ul>
              <ul id="summaries" class="list"></ul>
              <p id="memory-empty" class="quiet">Nothing yet.</p>
            </section>
          </aside>
          <main>
            <div id="log" aria-live="polite"></div>
            <p id="typing" class="quiet" hidden>Mira is typing…</p>
            <div id="problem" role="alert" hidden><span id="problem-text"></span> <button id="retry" type="button">Retry</button></div>
            <form id="say">
              <textarea id="message" rows="2" placeholder="Say something (Enter sends, Shift+Enter for a new line)" aria-label="Your message"></textarea>
              <button id="send" type="submit">Send</button>
            </form>
          </main>
        </div>
        </body>
        </html>

        """
}
