/**
 * The member page's HTML and CSS: a static shell that src/web/app.ts
 * (served as /app.js, an ES module) fills in. Element ids are the
 * contract between the two; tiles, roster entries and stats rows are made
 * by the script. No script runs inline, so the page works under a
 * Content-Security-Policy of `script-src 'self'`.
 */

/** The page's style sheet, inlined into the HTML. */
export const PAGE_CSS = `
:root { color-scheme: light dark; --fg: #1b1d22; --bg: #f6f7f9; --card: #fff; --muted: #667; --line: #d9dce3; --bad: #b3261e; --ok: #1f7a3a; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e7ea; --bg: #16181c; --card: #1f2228; --muted: #9aa0ab; --line: #343843; --bad: #ff8a80; --ok: #7bd88f; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; padding: 10px 16px; border-bottom: 1px solid var(--line); background: var(--card); }
header h1 { font-size: 16px; margin: 0; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.mono, #roster li { overflow-wrap: anywhere; }
#peer-id { user-select: all; word-break: break-all; }
form { display: flex; gap: 8px; flex: 1 1 420px; }
#invite { flex: 1; min-width: 0; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
button { padding: 6px 14px; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); cursor: pointer; }
button:disabled { opacity: .5; cursor: default; }
#status { color: var(--muted); }
#status[data-state="joined"] { color: var(--ok); }
#error { margin: 0; padding: 6px 16px; color: var(--bad); font-weight: 600; }
#error:empty { display: none; }
main { display: grid; grid-template-columns: minmax(0, 1fr) 320px; gap: 16px; padding: 16px; }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } }
#tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap: 12px; align-content: start; }
#tiles:empty::before { content: "No one else here yet."; color: var(--muted); }
figure { margin: 0; background: #000; border-radius: 8px; overflow: hidden; position: relative; }
figure canvas, figure video { display: block; width: 100%; aspect-ratio: 16 / 9; object-fit: contain; background: #000; }
figcaption { position: absolute; left: 0; right: 0; bottom: 0; padding: 4px 8px; font-size: 12px; color: #fff; background: linear-gradient(transparent, rgba(0,0,0,.7)); display: flex; justify-content: space-between; gap: 8px; }
aside section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; margin-bottom: 12px; }
aside h2 { font-size: 13px; margin: 0 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
#safety-code { font-size: 16px; letter-spacing: .05em; }
#roster { margin: 0; padding-left: 18px; }
#roster .self { font-weight: 600; }
table { width: 100%; border-collapse: collapse; font-size: 12px; }
th, td { text-align: right; padding: 2px 4px; border-bottom: 1px solid var(--line); }
th:first-child, td:first-child { text-align: left; }
#log { max-height: 160px; overflow: auto; font-size: 11px; color: var(--muted); white-space: pre-wrap; margin: 0; }
`

/** The page: header (own peer id, invitation field, Join, Leave, state), error line, tiles, and a side column. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>fabric — encrypted group video</title>
<style>${PAGE_CSS}</style>
<script type="module" src="/app.js"></script>
</head>
<body>
<header>
  <h1>fabric</h1>
  <div>you are <code id="peer-id">…</code></div>
  <form id="join-form" autocomplete="off">
    <input id="invite" name="invite" placeholder="invitation token (fabric-invite-1.…)" spellcheck="false" aria-label="invitation token">
    <button id="join" type="submit" disabled>Join</button>
    <button id="leave" type="button" disabled>Leave</button>
  </form>
  <span id="status" data-state="idle">idle</span>
</header>
<p id="error" role="alert"></p>
<main>
  <div id="tiles" aria-label="other members"></div>
  <aside>
    <section>
      <h2>You</h2>
      <figure id="self-tile"><video id="preview" autoplay muted playsinline></video><figcaption><span id="self-label">camera off</span><span id="sent-rate"></span></figcaption></figure>
    </section>
    <section>
      <h2>Stream</h2>
      <div class="mono" id="stream">—</div>
      <div>epoch <span class="mono" id="epoch">—</span></div>
    </section>
    <section>
      <h2>Safety code</h2>
      <div class="mono" id="safety-code" title="the same at every member who shares this epoch's keys: compare it out of band">—</div>
    </section>
    <section>
      <h2>Roster</h2>
      <ol id="roster"></ol>
    </section>
    <section>
      <h2>Stats</h2>
      <div id="sent">sent 0 frames</div>
      <table>
        <thead><tr><th>sender</th><th>fps</th><th>kbit/s</th><th>decoded</th><th>dec. err</th><th>decrypt fail</th></tr></thead>
        <tbody id="stats"></tbody>
      </table>
    </section>
    <section>
      <h2>Log</h2>
      <pre id="log"></pre>
    </section>
  </aside>
</main>
</body>
</html>
`
