// The workspace's pages: plain JavaScript, no build step, no network beyond this server.
// Every text from the project is put into the page with textContent (never innerHTML);
// the only HTML inserted is what the server rendered (escaped by its templates).
(function () {
  "use strict";

  const T = JSON.parse(document.getElementById("i18n").textContent);
  const CODES = JSON.parse(document.getElementById("codes").textContent);
  const CSRF = document.querySelector('meta[name="csrf-token"]').content;
  const PAGE = document.body.dataset.page;
  const RECENT_KEY = "qualcode.recent-codes";

  // ------------------------------------------------------------------ talking to the server

  async function post(action, body, reloadOnConflict) {
    const response = await fetch("/api/" + action, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": CSRF},
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = {error: response.status + " " + response.statusText}; }
    if (!response.ok) {
      if (data.conflict && reloadOnConflict) {  // the page is out of date: say why and draw it again
        flashAfterReload(T.conflict + (data.error || response.status));
        location.reload();
        return null;
      }
      flash((data.conflict ? T.conflict : T.error) + (data.error || response.status) + (data.hint ? " — " + data.hint : ""), "bad");
      return null;
    }
    return data;
  }

  function flash(message, kind) {
    const box = document.getElementById("flash");
    box.textContent = message;
    box.className = "show " + (kind || "ok");
    clearTimeout(flash.timer);
    flash.timer = setTimeout(function () { box.className = ""; }, kind === "bad" ? 8000 : 2500);
  }

  // a message that survives the reload that follows a change
  function flashAfterReload(message) { sessionStorage.setItem("qualcode.flash", message); }
  const pending = sessionStorage.getItem("qualcode.flash");
  if (pending) { sessionStorage.removeItem("qualcode.flash"); flash(pending, "ok"); }

  function typing(event) {
    const t = event.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }

  // ------------------------------------------------------------------ a one-line question

  function ask(label, done, initial, required) {
    const box = document.createElement("div");
    box.className = "ask";
    const text = document.createElement("div");
    text.textContent = label;
    const input = document.createElement("textarea");
    input.rows = 3;
    input.value = initial || "";
    const ok = document.createElement("button");
    ok.type = "button";
    ok.textContent = "OK";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.textContent = T.close;
    box.append(text, input, ok, cancel);
    document.body.appendChild(box);
    input.focus();
    function close() { box.remove(); }
    ok.addEventListener("click", function () {
      const v = input.value.trim();
      if (!v && required) { flash(required, "bad"); input.focus(); return; }
      close();
      if (v) done(v);
    });
    cancel.addEventListener("click", close);
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); ok.click(); }
      if (e.key === "Escape") { e.preventDefault(); close(); }
      e.stopPropagation();
    });
  }

  // ------------------------------------------------------------------ the code picker

  const picker = document.getElementById("picker");
  const pickerInput = document.getElementById("picker-input");
  const pickerList = document.getElementById("picker-list");
  let pickerDone = null, pickerNew = null, pickerItems = [], pickerAt = 0;

  function recent() {
    try { return JSON.parse(localStorage.getItem(RECENT_KEY) || "[]"); } catch (e) { return []; }
  }
  function remember(path) {
    const list = [path].concat(recent().filter(function (p) { return p !== path; })).slice(0, 8);
    localStorage.setItem(RECENT_KEY, JSON.stringify(list));
  }

  function matches(code, needle) {
    if (!needle) return true;
    needle = needle.toLowerCase();
    return [code.path, code.id, code.label, code.label_en].some(function (s) { return (s || "").toLowerCase().indexOf(needle) >= 0; });
  }

  function drawPicker() {
    const needle = pickerInput.value.trim();
    const recents = recent().map(function (p) { return CODES.find(function (c) { return c.path === p; }); })
      .filter(function (c) { return c && matches(c, needle); });
    const rest = CODES.filter(function (c) { return matches(c, needle) && recents.indexOf(c) < 0; });
    pickerItems = [];
    pickerList.replaceChildren();
    function add(code, isRecent) {
      const li = document.createElement("li");
      li.className = "pick" + (isRecent ? " recent" : "");
      li.dataset.path = code.path;
      const dot = document.createElement("span");
      dot.className = "dot";
      dot.style.setProperty("--c", code.color);
      const label = document.createElement("b");
      label.textContent = code.label;
      const en = document.createElement("span");
      en.className = "en";
      en.textContent = code.label_en;
      const path = document.createElement("code");
      path.textContent = code.path;
      li.append(dot, label, " ", en, " ", path);
      li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(pickerItems.indexOf(li)); });
      pickerList.appendChild(li);
      pickerItems.push(li);
    }
    if (recents.length) {
      const head = document.createElement("li");
      head.className = "head";
      head.textContent = T.recent;
      pickerList.appendChild(head);
      recents.forEach(function (c) { add(c, true); });
    }
    rest.forEach(function (c) { add(c, false); });
    if (pickerNew) {
      const li = document.createElement("li");
      li.className = "pick new";
      li.dataset.path = "";
      li.textContent = T.new_code + "「" + pickerNew.label + "」";
      li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(pickerItems.indexOf(li)); });
      pickerList.appendChild(li);
      pickerItems.push(li);
    } else if (!pickerItems.length) {
      const li = document.createElement("li");
      li.className = "head";
      li.textContent = T.no_match;
      pickerList.appendChild(li);
    }
    pickerAt = 0;
    mark();
  }

  function mark() {
    pickerItems.forEach(function (li, i) { li.classList.toggle("at", i === pickerAt); });
    if (pickerItems[pickerAt]) pickerItems[pickerAt].scrollIntoView({block: "nearest"});
  }

  function choose(i) {
    const li = pickerItems[i];
    if (!li) return;
    const done = pickerDone, make = pickerNew;
    closePicker();
    if (li.dataset.path) { remember(li.dataset.path); done(li.dataset.path); }
    else if (make) make.create();
  }

  function openPicker(rect, done, make) {
    pickerDone = done;
    pickerNew = make || null;
    picker.hidden = false;
    const top = Math.min(window.scrollY + rect.bottom + 6, window.scrollY + window.innerHeight - 340);
    picker.style.top = Math.max(top, window.scrollY + 8) + "px";
    picker.style.left = Math.max(8, Math.min(window.scrollX + rect.left, window.scrollX + window.innerWidth - 440)) + "px";
    pickerInput.value = "";
    drawPicker();
    pickerInput.focus();
  }

  function closePicker() { picker.hidden = true; pickerDone = null; pickerNew = null; }

  pickerInput.addEventListener("input", drawPicker);
  pickerInput.addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown") { pickerAt = Math.min(pickerAt + 1, pickerItems.length - 1); mark(); e.preventDefault(); }
    else if (e.key === "ArrowUp") { pickerAt = Math.max(pickerAt - 1, 0); mark(); e.preventDefault(); }
    else if (e.key === "Enter") { e.preventDefault(); choose(pickerAt); }
    else if (e.key === "Escape") { e.preventDefault(); closePicker(); }
    e.stopPropagation();
  });
  pickerInput.addEventListener("blur", function () { setTimeout(closePicker, 150); });

  // ------------------------------------------------------------------ help and undo

  function showHelp(text) {
    const help = document.getElementById("help");
    if (!help.hidden) { help.hidden = true; return; }
    help.replaceChildren();
    const h = document.createElement("h2");
    h.textContent = T.help_title;
    const p = document.createElement("p");
    p.textContent = text;
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = T.close;
    close.addEventListener("click", function () { help.hidden = true; });
    help.append(h, p, close);
    help.hidden = false;
  }

  async function undoLast() {
    const data = await post("undo", {});
    if (data) { flashAfterReload(T.undone + data.message); location.reload(); }
  }

  document.getElementById("undo").addEventListener("click", function () {
    if (PAGE === "review") reviewAction("u");
    else if (PAGE === "adjudicate") adjudicationAction("u");
    else undoLast();
  });

  // ------------------------------------------------------------------ the reader

  function pointOf(container, offset) {
    // a selection boundary as a document offset in code points
    let node = container, within = offset;
    if (node.nodeType !== Node.TEXT_NODE) {
      const kids = node.childNodes;
      if (offset < kids.length) { node = kids[offset]; within = 0; }
      else if (kids.length) { node = kids[kids.length - 1]; within = null; }
    }
    const seg = (node.nodeType === Node.TEXT_NODE ? node.parentElement : node).closest(".g");
    if (!seg) return null;
    const text = seg.textContent;
    if (within === null) within = text.length;
    if (node.nodeType !== Node.TEXT_NODE) within = within ? text.length : 0;
    return parseInt(seg.dataset.s, 10) + Array.from(text.slice(0, within)).length;
  }

  function selectedSpan() {
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) return null;
    const range = sel.getRangeAt(0);
    const root = document.getElementById("passages");
    if (!root.contains(range.commonAncestorContainer)) return null;
    let start = pointOf(range.startContainer, range.startOffset);
    let end = pointOf(range.endContainer, range.endOffset);
    if (start === null || end === null) return null;
    const text = range.toString();
    const lead = Array.from(text).length - Array.from(text.replace(/^\s+/, "")).length;
    const trail = Array.from(text).length - Array.from(text.replace(/\s+$/, "")).length;
    start += lead; end -= trail;
    if (end <= start) return null;
    return {start: start, end: end, text: text.trim(), rect: range.getBoundingClientRect()};
  }

  function view() {
    const node = document.getElementById("view");
    return node ? JSON.parse(node.textContent) : null;
  }

  let selectedChip = null;

  function selectChip(chip) {
    document.querySelectorAll(".chip.sel").forEach(function (c) { c.classList.remove("sel"); });
    document.querySelectorAll(".g.hl").forEach(function (g) { g.classList.remove("hl"); });
    selectedChip = chip ? chip.dataset.id : null;
    if (!chip) return;
    chip.classList.add("sel");
    const passage = chip.closest(".passage");
    document.querySelectorAll(".g[data-k]").forEach(function (g) {
      if (g.dataset.k.split(" ").indexOf(selectedChip) >= 0) g.classList.add("hl");
    });
    chip.focus({preventScroll: true});
    if (passage) passage.scrollIntoView({block: "nearest"});
  }

  function currentChip() {
    return selectedChip ? document.querySelector('.chip[data-id="' + selectedChip + '"]') : null;
  }

  function replacePassages(html) {
    Object.keys(html || {}).forEach(function (seq) {
      const old = document.getElementById("p-" + seq);
      if (!old) return;
      const holder = document.createElement("div");
      holder.innerHTML = html[seq];  // rendered and escaped by the server's template
      old.replaceWith(holder.firstElementChild);
    });
    const again = currentChip();
    if (again) selectChip(again); else selectedChip = null;
  }

  async function change(action, body, message) {
    body.view = view();
    const data = await post(action, body);
    if (!data) return null;
    if (data.reload) { flashAfterReload(message || data.message); location.reload(); return data; }
    replacePassages(data.passages);
    flash((message || T.saved) + " · " + data.message, "ok");
    return data;
  }

  function codeSelection() {
    const span = selectedSpan();
    if (!span) return;
    const doc = view().doc;
    const label = span.text.length > 40 ? span.text.slice(0, 40) : span.text;
    openPicker(span.rect, function (path) {
      window.getSelection().removeAllRanges();
      change("code", {doc: doc, start: span.start, end: span.end, code: path});
    }, {
      label: label,
      create: function () {
        ask(T.new_code_id, function (id) {
          change("new-code", {id: id, parent: "", label: label, doc: doc, start: span.start, end: span.end});
        });
      },
    });
  }

  function decideChip(decision) {
    const chip = currentChip();
    if (!chip) { flash(T.select_chip, "bad"); return; }
    change("decide", {id: chip.dataset.id, decision: decision});
  }

  function stepChip(delta) {
    const chips = Array.from(document.querySelectorAll('.chip[data-status="proposed"]'));
    if (!chips.length) return;
    const at = chips.findIndex(function (c) { return c.dataset.id === selectedChip; });
    const next = at < 0 ? (delta > 0 ? 0 : chips.length - 1) : Math.max(0, Math.min(chips.length - 1, at + delta));
    selectChip(chips[next]);
  }

  function readerKeys(e) {
    const chip = currentChip();
    switch (e.key) {
      case "a": decideChip("accept"); break;
      case "r": decideChip("reject"); break;
      case "c":
        if (!chip) { flash(T.select_chip, "bad"); break; }
        openPicker(chip.getBoundingClientRect(), function (path) { change("recode", {id: chip.dataset.id, code: path}); });
        break;
      case "m":
        if (!chip) { flash(T.select_chip, "bad"); break; }
        ask(T.memo_prompt, function (text) { change("memo", {type: "coding", target: chip.dataset.id, text: text}); });
        break;
      case "x":
        if (!chip) { flash(T.select_chip, "bad"); break; }
        if (window.confirm(T.confirm_remove)) change("remove", {id: chip.dataset.id});
        break;
      case "j": stepChip(1); break;
      case "k": stepChip(-1); break;
      case "u": undoLast(); break;
      case "?": showHelp(document.querySelector(".doc-head .hint").textContent); break;
      case "Escape": selectChip(null); break;
      default: return;
    }
    e.preventDefault();
  }

  function initReader() {
    const root = document.getElementById("passages");
    root.addEventListener("mouseup", function (e) {
      if (e.target.closest(".chip, button, a")) return;
      setTimeout(codeSelection, 0);
    });
    root.addEventListener("click", function (e) {
      const chip = e.target.closest(".chip");
      if (chip) { selectChip(chip.dataset.id === selectedChip ? null : chip); return; }
      const memo = e.target.closest(".memo-passage");
      if (memo) ask(T.memo_prompt, function (text) { change("memo", {type: "passage", target: memo.dataset.target, text: text}); });
    });
    root.addEventListener("mouseover", function (e) {
      const chip = e.target.closest(".chip");
      if (!chip) return;
      document.querySelectorAll('.g[data-k]').forEach(function (g) {
        g.classList.toggle("hover", g.dataset.k.split(" ").indexOf(chip.dataset.id) >= 0);
      });
    });
    root.addEventListener("mouseout", function (e) {
      if (e.target.closest(".chip")) document.querySelectorAll(".g.hover").forEach(function (g) { g.classList.remove("hover"); });
    });
    document.addEventListener("keydown", function (e) {
      if (typing(e) || e.ctrlKey || e.metaKey || e.altKey || !picker.hidden) return;
      readerKeys(e);
    });
    const focus = document.querySelector(".reader").dataset.focus;
    if (focus) {
      const target = document.getElementById("p-" + focus);
      if (target) { target.classList.add("focus"); target.scrollIntoView({block: "center"}); }
    }
  }

  // ------------------------------------------------------------------ the review queue

  function queue() { return JSON.parse(document.getElementById("queue").textContent); }

  async function reviewPost(action, value) {
    const body = queue();
    body.action = action;
    if (value !== undefined) body.value = value;
    const data = await post("review", body);
    if (data) { flashAfterReload(data.message); location.reload(); }
  }

  function reviewAction(key) {
    const card = document.querySelector(".review");
    const simple = {a: "accept", r: "reject", b: "absent", s: "skip", u: "undo"};
    if (simple[key]) { if (card || key === "u") reviewPost(simple[key]); return true; }
    if (!card) return key === "?" ? (showHelp(document.querySelector(".hint") ? document.querySelector(".hint").textContent : ""), true) : false;
    const rect = card.querySelector(".current").getBoundingClientRect();
    if (key === "c") { openPicker(rect, function (path) { reviewPost("change", path); }); return true; }
    if (key === "n") { openPicker(rect, function (path) { reviewPost("add", path); }); return true; }
    if (key === "m") { ask(T.memo_prompt, function (text) { reviewPost("memo", text); }); return true; }
    if (key === "?") { showHelp(card.querySelector(".hint").textContent); return true; }
    return false;
  }

  function initReview() {
    document.addEventListener("keydown", function (e) {
      if (typing(e) || e.ctrlKey || e.metaKey || e.altKey || !picker.hidden) return;
      if (reviewAction(e.key)) e.preventDefault();
    });
    document.querySelectorAll("[data-key]").forEach(function (b) {
      b.addEventListener("click", function () { reviewAction(b.dataset.key); });
    });
    const reset = document.getElementById("review-reset");
    if (reset) reset.addEventListener("click", function () { reviewPost("reset"); });
  }

  // ------------------------------------------------------------------ adjudication

  async function adjudicationPost(action, value, reason) {
    const body = queue();
    body.action = action;
    if (value !== undefined) body.value = value;
    if (reason !== undefined) body.reason = reason;
    const data = await post("adjudicate", body, true);
    if (data) { flashAfterReload(data.message); location.reload(); }
  }

  function adjudicationAction(key) {
    const card = document.querySelector(".adjudication");
    if (key === "u") { if (document.getElementById("queue")) adjudicationPost("undo"); return true; }
    if (key === "?") {
      const hint = (card || document).querySelector(".hint");
      showHelp(hint ? hint.textContent : "");
      return true;
    }
    if (!card) return false;
    const sides = Array.from(card.querySelectorAll(".side"));
    let value = null, action = "settle", question = T.reason_prompt;
    if (key === "y") value = "coded";
    else if (key === "n") value = "not coded";
    else if (/^[1-9]$/.test(key) && sides[parseInt(key, 10) - 1]) {
      const side = sides[parseInt(key, 10) - 1];
      if (side.dataset.vote === "") { flash(T.never_saw + side.dataset.coder, "bad"); return true; }
      action = "take";
      value = side.dataset.coder;
      question = T.reason_take + side.dataset.coder + " · " + T.reason_prompt;
    } else if (key === "s") { adjudicationPost("skip"); return true; }
    else return false;
    ask(question, function (reason) { adjudicationPost(action, value, reason); }, "", T.reason_required);
    return true;
  }

  async function initAdjudication() {
    document.addEventListener("keydown", function (e) {
      if (typing(e) || e.ctrlKey || e.metaKey || e.altKey || document.querySelector(".ask")) return;
      if (adjudicationAction(e.key)) e.preventDefault();
    });
    document.querySelectorAll("[data-key]").forEach(function (b) {
      b.addEventListener("click", function () { adjudicationAction(b.dataset.key); });
    });
    // as the terminal does on starting: the coders' agreements go into the consensus first
    if (document.getElementById("queue")) {
      const body = queue();
      body.action = "carry";
      const data = await post("adjudicate", body);
      if (data && data.carried) { flashAfterReload(T.carried + data.carried); location.reload(); return; }
    }
    document.body.dataset.ready = "1";
  }

  // ------------------------------------------------------------------ documents

  function initDocuments() {
    document.querySelectorAll(".edit-doc").forEach(function (b) {
      b.addEventListener("click", function () {
        const id = b.closest("tr").dataset.doc;
        const editor = document.getElementById("edit-" + id);
        editor.hidden = !editor.hidden;
        if (!editor.hidden) editor.querySelector("input").focus();
      });
    });
    document.querySelectorAll(".cancel-doc").forEach(function (b) {
      b.addEventListener("click", function () { b.closest("tr").hidden = true; });
    });
    document.querySelectorAll(".save-doc").forEach(function (b) {
      b.addEventListener("click", async function () {
        const editor = b.closest("tr");
        const id = editor.dataset.doc;
        const data = await post("doc-meta", {
          doc: id, case: editor.querySelector('[name="case"]').value,
          role_code: editor.querySelector('[name="role_code"]').value,
          attributes: editor.querySelector('[name="attributes"]').value,
        });
        if (!data) return;
        const row = document.getElementById("doc-" + id);
        row.querySelector(".v-case").textContent = data.case;
        row.querySelector(".v-role").textContent = data.role_code;
        const attrs = row.querySelector(".v-attrs");
        attrs.replaceChildren();
        Object.keys(data.attributes).filter(function (k) { return k !== "role"; }).forEach(function (k) {
          const span = document.createElement("span");
          span.className = "attr";
          span.textContent = k + "=" + data.attributes[k];
          attrs.append(span, " ");
        });
        editor.hidden = true;
        flash(T.saved, "ok");
      });
    });
    document.querySelectorAll(".remove-doc").forEach(function (b) {
      b.addEventListener("click", async function () {
        const name = b.dataset.name;
        const typed = window.prompt(T.confirm_remove_doc.replace("{name}", name), "");
        if (typed === null) return;
        if (typed.trim() !== name) { flash(T.not_removed, "bad"); return; }
        const data = await post("doc-remove", {doc: b.closest("tr").dataset.doc, confirm: typed.trim()});
        if (data) { flashAfterReload(data.message); location.reload(); }
      });
    });
    document.querySelectorAll(".role-select").forEach(function (s) {
      s.addEventListener("change", async function () {
        const data = await post("doc-role", {doc: s.closest("tr").dataset.doc, speaker: s.dataset.speaker, role: s.value});
        if (data) flash(T.saved + " · " + s.dataset.speaker + " · " + data.message, "ok");
      });
    });
  }

  // ------------------------------------------------------------------ codebook

  function initCodebook() {
    const form = document.getElementById("new-code");
    if (!form) return;
    form.addEventListener("submit", async function (e) {
      e.preventDefault();
      const body = {};
      new FormData(form).forEach(function (v, k) { body[k] = v; });
      const data = await post("new-code", body);
      if (data) { flashAfterReload(T.saved + " · " + data.code); location.reload(); }
    });
  }

  // ------------------------------------------------------------------ everywhere

  if (PAGE === "reader") initReader();
  else if (PAGE === "review") initReview();
  else if (PAGE === "adjudicate") initAdjudication();
  else if (PAGE === "documents") initDocuments();
  else if (PAGE === "codebook") initCodebook();
  if (PAGE !== "reader" && PAGE !== "review" && PAGE !== "adjudicate") {
    document.addEventListener("keydown", function (e) {
      if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "u") { e.preventDefault(); undoLast(); }
    });
  }
  if (PAGE !== "adjudicate") document.body.dataset.ready = "1";  // the keys work from now on (tests wait for it)
})();
