extension Page {
    /// Two columns on a wide screen; on a phone the side panel folds under
    /// the header's button (`body.panels-open`). Classes only: the policy
    /// allows no inline style.
    static let css = """
        * { box-sizing: border-box; }
        [hidden] { display: none !important; }
        body { font: 16px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 64rem; padding: 0 1rem; color: #222; }
        header { display: flex; align-items: center; gap: .75rem; flex-wrap: wrap; border-bottom: 1px solid #eee; }
        h1 { font-size: 1.4rem; margin: .6rem auto .6rem 0; }
        h2 { font-size: .95rem; margin: 1rem 0 .4rem; color: #555; }
        button, select, textarea { font: inherit; }
        .layout { display: grid; grid-template-columns: 16rem minmax(0, 1fr); gap: 1.5rem; }
        #panels { display: none; }
        aside { font-size: .9rem; }
        .list { list-style: none; margin: 0; padding: 0; }
        .list li { display: flex; align-items: baseline; gap: .4rem; padding: .25rem 0; border-bottom: 1px solid #f2f2f2; }
        .list li > span:first-child { flex: 1; overflow-wrap: anywhere; }
        .conversation { flex: 1; text-align: left; background: none; border: 0; padding: .2rem; cursor: pointer; overflow-wrap: anywhere; }
        .conversation[aria-current="true"] { font-weight: 600; background: #f3f0fa; }
        .forget, .delete { font-size: .8rem; }
        main { display: flex; flex-direction: column; min-height: calc(100vh - 4rem); }
        #log { flex: 1; }
        .message { margin: .6rem 0; white-space: pre-wrap; overflow-wrap: anywhere; }
        .user { margin-left: 20%; padding: .4rem .7rem; background: #f3f0fa; border-radius: .6rem; }
        .assistant { margin-right: 10%; }
        .unsent { opacity: .6; border: 1px dashed #a33; }
        .quiet { color: #777; font-size: .8rem; white-space: normal; }
        #problem { color: #a33; margin: .4rem 0; }
        form { display: flex; gap: .5rem; position: sticky; bottom: 0; background: #fff; padding: .5rem 0; }
        textarea { flex: 1; min-width: 0; resize: vertical; }
        @media (max-width: 700px) {
          .layout { display: block; }
          #panels { display: inline-block; }
          aside { display: none; border-bottom: 1px solid #eee; padding-bottom: .5rem; }
          body.panels-open aside { display: block; }
          .user { margin-left: 10%; }
          .assistant { margin-right: 0; }
        }

        """
}
