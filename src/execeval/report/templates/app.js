"use strict";
// The script of execeval's report and viewer pages (one file: the page's
// Content-Security-Policy allows this script alone, by its hash). Everything that comes
// from a run reaches the page through textContent or text nodes, never as markup.
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = String(value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }
  const words = (s) => s.replace(/_/g, " ");
  const badge = (status) => el("span", { class: "badge st-" + status, text: words(status) });
  const muted = (text) => el("p", { class: "muted", text });

  // --- Python highlighting: one regular expression, tokens become <span>s ---------------
  const KEYWORDS = new Set(("and as assert async await break class continue def del elif else " +
    "except finally for from global if import in is lambda match case nonlocal not or pass " +
    "raise return try while with yield").split(" "));
  const CONSTANTS = new Set(["True", "False", "None", "self", "cls"]);
  const BUILTINS = new Set(("abs all any bin bool bytes chr dict divmod enumerate filter float " +
    "format frozenset getattr hasattr hash hex int isinstance issubclass iter len list map max " +
    "min next object oct open ord pow print range repr reversed round set setattr slice sorted " +
    "str sum super tuple type zip Exception ValueError TypeError KeyError IndexError").split(" "));
  const TOKENS = new RegExp([
    /(#[^\n]*)/.source,                                                    // 1 comment
    /((?:\b[rRbBuUfF]{1,2})?(?:'''[\s\S]*?(?:'''|$)|"""[\s\S]*?(?:"""|$)|'(?:[^'\\\n]|\\[\s\S])*'?|"(?:[^"\\\n]|\\[\s\S])*"?))/.source, // 2 string
    /(\b(?:0[xXoObB][\da-fA-F_]+|\d[\d_]*(?:\.[\d_]*)?(?:[eE][+-]?\d+)?[jJ]?))/.source, // 3 number
    /(@[A-Za-z_][\w.]*)/.source,                                           // 4 decorator
    /([A-Za-z_]\w*)/.source,                                               // 5 name
  ].join("|"), "g");

  function highlight(code) {
    const out = document.createDocumentFragment();
    let last = 0, previous = "", m;
    TOKENS.lastIndex = 0;
    while ((m = TOKENS.exec(code)) !== null) {
      if (m.index > last) out.append(code.slice(last, m.index));
      let cls = m[1] ? "c" : m[2] ? "s" : m[3] ? "n" : m[4] ? "d" : null;
      if (m[5]) {
        const w = m[5];
        cls = KEYWORDS.has(w) ? "k" : CONSTANTS.has(w) ? "n"
          : (previous === "def" || previous === "class") ? "f" : BUILTINS.has(w) ? "b" : null;
        previous = w;
      } else {
        previous = "";
      }
      out.append(cls ? el("span", { class: "hl-" + cls, text: m[0] }) : m[0]);
      last = TOKENS.lastIndex;
    }
    if (last < code.length) out.append(code.slice(last));
    return out;
  }

  // --- tables: sort by a column, filter the problems -------------------------------------
  const collator = new Intl.Collator(undefined, { numeric: true });

  function sortBy(table, th) {
    const i = th.cellIndex, numeric = th.dataset.type === "num";
    const dir = th.dataset.dir === "asc" ? "desc" : "asc";
    for (const other of th.parentElement.cells) delete other.dataset.dir;
    th.dataset.dir = dir;
    const key = (row) => row.cells[i].dataset.v ?? row.cells[i].textContent;
    const rows = Array.from(table.tBodies[0].rows);
    rows.sort((a, b) => {
      const c = numeric ? parseFloat(key(a)) - parseFloat(key(b)) : collator.compare(key(a), key(b));
      return dir === "asc" ? c : -c;
    });
    table.tBodies[0].append(...rows);
  }

  function setUpSorting() {
    for (const table of $$("table.sortable")) {
      const head = table.tHead.rows[table.tHead.rows.length - 1];
      for (const th of head.cells) {
        if (!th.dataset.type) continue;
        th.classList.add("sort");
        th.addEventListener("click", () => sortBy(table, th));
      }
    }
  }

  function filterProblems() {
    const table = $("#problems");
    if (!table) return;
    const text = $("#pf-text").value.trim().toLowerCase();
    const status = $("#pf-status").value;
    const disagree = $("#pf-disagree")?.checked;
    let shown = 0;
    const rows = table.tBodies[0].rows;
    for (const row of rows) {
      const ok = (!text || row.dataset.task.toLowerCase().includes(text))
        && (!status || row.dataset.statuses.split(" ").includes(status))
        && (!disagree || row.dataset.disagree === "1");
      row.hidden = !ok;
      shown += ok ? 1 : 0;
      const link = row.querySelector("a.problem-link");
      if (link && !link.getAttribute("href").startsWith("#")) {  // the viewer: pass the filter on
        const url = new URL(link.href);
        if (status) url.searchParams.set("status", status); else url.searchParams.delete("status");
        link.href = url.pathname + url.search;
      }
    }
    $("#pf-count").textContent = `${shown} of ${rows.length} problems`;
  }

  function setUpFilters() {
    if (!$("#problems")) return;
    for (const id of ["#pf-text", "#pf-status", "#pf-disagree"]) {
      const input = $(id);
      if (input) input.addEventListener("input", filterProblems);
    }
    filterProblems();
  }

  // --- one sample, and a problem's samples a page at a time --------------------------------
  const PAGE = 50;

  function rowsOf(data, task) {
    return (data.samples[task] || []).map((row) =>
      Object.fromEntries(data.fields.map((field, i) => [field, row[i]])));
  }

  function promptView(prompt) {
    if (!prompt) {
      return muted("No prompt stored for this sample (runs stored before execeval 0.2 " +
        "did not keep one).");
    }
    const body = prompt.messages && prompt.messages.length
      ? prompt.messages.map(([role, content]) =>
        el("div", {}, el("div", { class: "muted", text: role }), el("pre", { class: "raw", text: content })))
      : [el("pre", { class: "raw", text: prompt.text })];
    const what = prompt.messages && prompt.messages.length
      ? `${prompt.style}, ${prompt.messages.length} messages` : prompt.style;
    return el("details", { class: "prompt" }, el("summary", { text: `Prompt (${what})` }), ...body);
  }

  function sampleView(s, data, opts) {
    const run = data.runs[s.run];
    const facts = el("dl", { class: "facts" });
    const fact = (key, value) => {
      if (value !== null && value !== undefined && value !== "") {
        facts.append(el("dt", { text: key }), el("dd", { text: value }));
      }
    };
    fact("run", data.runs.length > 1 ? `${run.label}: ${run.model}` : run.model);
    fact("run id", run.id);
    fact("sample", `#${s.sample} of ${s.task_id} (index ${s.idx} in the run)`);
    fact("extraction", s.extraction);
    fact("finish reason", s.finish_reason);
    fact("tokens", s.n_tokens);
    fact("mean log-probability", s.mean_logprob == null ? null : s.mean_logprob.toFixed(4));
    fact("grading time", s.seconds == null ? null : `${s.seconds.toFixed(3)} s`);
    for (const [key, value] of Object.entries(s.extra || {})) {
      fact(words(key), typeof value === "object" ? JSON.stringify(value) : value);
    }
    const title = el("div", { class: "run-title" }, badge(s.status),
      el("b", { text: `${s.task_id} · sample #${s.sample}` }),
      opts.sampleUrl ? el("a", { href: opts.sampleUrl(run.id, s.idx), text: "open on its own page" }) : null);
    const verdict = s.detail
      ? el("pre", { class: "detail", text: s.detail })
      : muted(s.status === "pending" ? "not graded yet" : s.passed ? "every test passed" : "no detail recorded");
    return el("div", { class: "sample" }, title, facts,
      el("h4", { text: s.passed ? "Verdict" : "Verdict: the failing test or error" }), verdict,
      el("h4", { text: "Program that ran" }),
      s.program ? el("pre", { class: "code" }, highlight(s.program))
        : muted("No program: nothing runnable could be extracted from the output."),
      el("h4", { text: "Raw model output" }),
      s.raw == null ? muted("not stored") : el("pre", { class: "raw output", text: s.raw || "(empty)" }),
      el("h4", { text: "Prompt" }), promptView(data.prompts[s.prompt]));
  }

  // opts: status (initial filter), sampleUrl(runId, idx) and diffUrl (the viewer only)
  function browser(host, data, task, opts) {
    const all = rowsOf(data, task);
    if (!all.length) {
      host.replaceChildren(muted(`No samples of ${task}.`));
      return;
    }
    const counts = {};
    for (const s of all) counts[s.status] = (counts[s.status] || 0) + 1;
    const select = el("select", { class: "sample-status", "aria-label": "show samples with status" },
      el("option", { value: "", text: `all samples (${all.length})` }),
      ...Object.entries(counts).map(([s, n]) => el("option", { value: s, text: `${words(s)} (${n})` })));
    select.value = counts[opts.status] ? opts.status : "";
    const several = data.runs.length > 1;
    const summary = el("div", { class: "run-meta" }, data.runs.map((run, i) => {
      const mine = all.filter((s) => s.run === i);
      const passed = mine.filter((s) => s.passed).length;
      return `${several ? run.label + ": " : ""}${passed} of ${mine.length} samples pass`;
    }).join(" · "));
    const picked = [];
    const diff = opts.diffUrl ? el("button", { type: "button", class: "diff-button", disabled: true,
      text: "diff the two ticked samples" }) : null;
    if (diff) {
      diff.addEventListener("click", () => {
        const id = (s) => encodeURIComponent(`${data.runs[s.run].id}:${s.idx}`);
        location.href = `${opts.diffUrl}?a=${id(picked[0])}&b=${id(picked[1])}`;
      });
    }
    const list = el("div", { class: "list" });
    const detail = el("div", { class: "detail" });
    let page = 0;
    let selected = null;
    const shown = () => all.filter((s) => !select.value || s.status === select.value);

    function choose(s) {
      selected = s;
      detail.replaceChildren(s ? sampleView(s, data, opts) : muted("No sample has this status."));
      for (const tr of $$("tr", list)) tr.classList.toggle("selected", tr.sample === s);
    }

    const tokens = all.some((s) => s.n_tokens != null);
    const logprobs = all.some((s) => s.mean_logprob != null);

    // page `at` of the list; `fresh`: a new filter, so show its first failing sample
    function draw(at, fresh) {
      const rows = shown();
      const pages = Math.max(1, Math.ceil(rows.length / PAGE));
      if (fresh) {
        const failing = rows.findIndex((s) => !s.passed);
        selected = rows[Math.max(failing, 0)] || null;
        at = Math.floor(Math.max(failing, 0) / PAGE);
      }
      page = Math.min(Math.max(at, 0), pages - 1);
      const body = el("tbody");
      for (const s of rows.slice(page * PAGE, (page + 1) * PAGE)) {
        const tick = diff ? el("input", { type: "checkbox", "aria-label": "tick for the diff" }) : null;
        if (tick) {
          tick.checked = picked.includes(s);
          tick.addEventListener("change", () => {
            if (tick.checked) picked.push(s); else picked.splice(picked.indexOf(s), 1);
            while (picked.length > 2) picked.shift();
            for (const box of $$("input[type=checkbox]", list)) box.checked = picked.includes(box.closest("tr").sample);
            diff.disabled = picked.length !== 2;
          });
        }
        const tr = el("tr", {}, tick ? el("td", {}, tick) : null,
          several ? el("td", { class: "run", text: data.runs[s.run].label, title: data.runs[s.run].label }) : null,
          el("td", { text: `#${s.sample}` }), el("td", {}, badge(s.status)),
          tokens ? el("td", { class: "r", text: s.n_tokens ?? "" }) : null,
          logprobs ? el("td", { class: "r", text: s.mean_logprob == null ? "" : s.mean_logprob.toFixed(3) }) : null);
        tr.sample = s;
        tr.addEventListener("click", (event) => { if (event.target !== tick) choose(s); });
        body.append(tr);
      }
      const prev = el("button", { type: "button", text: "‹ previous", disabled: page === 0 });
      const next = el("button", { type: "button", text: "next ›", disabled: page >= pages - 1 });
      prev.addEventListener("click", () => draw(page - 1, false));
      next.addEventListener("click", () => draw(page + 1, false));
      const first = rows.length ? page * PAGE + 1 : 0;
      const pager = el("div", { class: "pager" }, prev,
        `${first}–${Math.min(rows.length, (page + 1) * PAGE)} of ${rows.length}`, next);
      const head = el("tr", {}, diff ? el("th", {}) : null, several ? el("th", { text: "run" }) : null,
        el("th", { text: "sample" }), el("th", { text: "status" }),
        tokens ? el("th", { class: "r", text: "tokens" }) : null,
        logprobs ? el("th", { class: "r", text: "mean logprob" }) : null);
      list.replaceChildren(pager, el("table", { class: "compact samples" }, el("thead", {}, head), body));
      choose(selected);
    }

    select.addEventListener("input", () => draw(0, true));
    host.replaceChildren(
      el("div", { class: "filters" }, select, summary, diff),
      el("div", { class: "browser" }, list, detail));
    draw(0, true);
  }

  // --- the report: samples packed in the page, read when a problem is opened ---------------
  let packed = null;
  function reportData() {
    packed ??= (async () => {
      const text = atob($("#sample-data").textContent.trim());
      const bytes = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
      const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
      return JSON.parse(await new Response(stream).text());
    })();
    return packed;
  }

  async function openFromHash() {
    const dialog = $("#problem-dialog");
    const m = /^#problem=(.+)$/.exec(location.hash);
    if (!m) {
      if (dialog.open) dialog.close();
      return;
    }
    const task = decodeURIComponent(m[1]);
    const host = $("#problem-host");
    $("#problem-title").textContent = task;
    host.replaceChildren(muted("reading the samples…"));
    if (!dialog.open) dialog.showModal();
    browser(host, await reportData(), task, { status: $("#pf-status")?.value || "" });
  }

  function setUpReport() {
    const dialog = $("#problem-dialog");
    if (!dialog || !$("#sample-data")) return;
    $("#problem-close").addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      if (location.hash) history.replaceState(null, "", location.pathname + location.search);
    });
    window.addEventListener("hashchange", openFromHash);
    openFromHash();
  }

  // --- the viewer: a page's own data, and live counts while a run goes on -----------------
  function setUpViewer() {
    const node = $("#page-data");
    if (!node) return;
    const page = JSON.parse(node.textContent);
    const sampleUrl = (run, idx) => `/run/${encodeURIComponent(run)}/sample/${idx}`;
    if (page.view === "problem") {
      browser($("#problem-host"), page.data, page.task,
        { status: page.status, sampleUrl, diffUrl: "/diff" });
    } else if (page.view === "sample") {
      const [task] = Object.keys(page.data.samples);
      $("#sample-host").replaceChildren(sampleView(rowsOf(page.data, task)[0], page.data, {}));
    }
  }

  function setUpLive() {
    const url = document.body.dataset.liveUrl;
    if (!url) return;
    const timer = setInterval(async () => {
      let answer;
      try {
        const response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
        if (!response.ok) return;
        answer = await response.json();
      } catch {
        return;  // the viewer stopped: keep the last counts
      }
      for (const node of $$("[data-live]")) {
        const value = answer.fields[node.dataset.live];
        if (value !== undefined) node.textContent = value;
      }
      const status = $("[data-live=status]");
      if (status) status.className = "badge st-" + answer.status;
      if (answer.status !== "running") {
        clearInterval(timer);
        $("#live-note")?.replaceChildren("The run has stopped (", answer.status,
          "): ", el("a", { href: location.pathname + location.search, text: "reload" }),
          " for its final summary and plots.");
      }
    }, 2000);
  }

  setUpSorting();
  setUpFilters();
  setUpReport();
  setUpViewer();
  setUpLive();
})();
