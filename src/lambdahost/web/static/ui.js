// lambdahost web UI: the zip drop zone, the run dialog and the live log panel. Plain JavaScript, no library.
"use strict";

function $(id) { return document.getElementById(id); }

// -- the create/edit form's package: a zip, or a folder's files (dropped, or chosen with the folder picker) ----------
// A zip goes into the zip input and is posted with the form. A folder's files are posted one part each, named by
// their path inside the folder, as the server packages them (web/function_form.py); the answer (the function's
// page, or the form with its errors) replaces this page.
async function droppedFiles(items) {
  const out = [], entries = [];
  for (const item of items) { const entry = item.webkitGetAsEntry && item.webkitGetAsEntry(); if (entry) entries.push(entry); }
  const readAll = (reader) => new Promise((resolve, reject) => {
    const all = [];
    const next = () => reader.readEntries((batch) => { if (!batch.length) resolve(all); else { all.push(...batch); next(); } }, reject);
    next();
  });
  async function walk(entry) {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      out.push([file, entry.fullPath.replace(/^\/+/, "")]);
    } else if (entry.isDirectory) {
      for (const child of await readAll(entry.createReader())) await walk(child);
    }
  }
  for (const entry of entries) await walk(entry);
  return out;
}

function setupDropzone() {
  const zone = $("dropzone"), input = $("package"), folder = $("package-folder"), label = $("dropzone-label");
  if (!zone || !input) return;
  const form = zone.closest("form");
  let files = null;  // [[File, path], ...] of a dropped folder
  const describe = (list) => {
    const top = new Set(list.map(([, path]) => path.split("/")[0]));
    const bytes = list.reduce((sum, [file]) => sum + file.size, 0);
    return list.length + " files" + (top.size === 1 && list[0][1].includes("/") ? " of " + [...top][0] + "/" : "") + " (" + bytes + " bytes)";
  };
  const useZip = () => { files = null; if (folder) folder.value = ""; if (input.files.length) label.textContent = input.files[0].name + " (" + input.files[0].size + " bytes)"; };
  const useFolder = (list) => { files = list; input.value = ""; if (folder) folder.value = ""; label.textContent = describe(list); };
  input.addEventListener("change", useZip);
  if (folder) folder.addEventListener("change", () => {
    if (!folder.files.length) return;
    const list = [...folder.files].map((file) => [file, file.webkitRelativePath || file.name]);
    files = list; input.value = ""; label.textContent = describe(list);
  });
  const pick = (id, target) => { const button = $(id); if (button && target) button.addEventListener("click", () => target.click()); };
  pick("choose-zip", input); pick("choose-folder", folder);
  ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (e) => { e.preventDefault(); zone.classList.add("over"); }));
  ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => zone.classList.remove("over")));
  zone.addEventListener("drop", async (e) => {
    e.preventDefault();
    const transfer = e.dataTransfer;
    if (!transfer || !transfer.files.length) return;
    const items = transfer.items ? [...transfer.items] : [];
    const hasFolder = items.some((item) => { const entry = item.webkitGetAsEntry && item.webkitGetAsEntry(); return entry && entry.isDirectory; });
    if (!hasFolder && transfer.files.length === 1 && /\.zip$/i.test(transfer.files[0].name)) { input.files = transfer.files; useZip(); return; }
    const loose = [...transfer.files].map((file) => [file, file.name]);
    const walked = hasFolder ? await droppedFiles(items) : [];
    useFolder(walked.length ? walked : loose);
  });
  form.addEventListener("submit", async (e) => {
    if (!files) return;  // a zip, or nothing: the browser posts the form
    e.preventDefault();
    const data = new FormData(form);
    data.delete("package"); data.delete("package_files");
    for (const [file, path] of files) data.append("package_files", file, path);
    const save = $("save");
    save.disabled = true; label.textContent = "Uploading and packaging " + describe(files) + "…";
    try {
      const response = await fetch(form.action, { method: "POST", body: data, credentials: "same-origin" });
      if (response.redirected) { window.location.assign(response.url); return; }
      const page = await response.text();
      document.open(); document.write(page); document.close();
    } catch (err) {
      label.textContent = "The server did not answer: " + err.message; save.disabled = false;
    }
  });
}

// -- the live log panel: follows one invocation with server-sent events --------------------------------------------
const live = { source: null, following: null };

function follow(id, logEl, statusEl, onEnd) {
  if (live.source) live.source.close();
  live.following = id;
  logEl.textContent = "";
  statusEl.textContent = "Following " + id + "…";
  const source = new EventSource("/ui/invocations/" + encodeURIComponent(id) + "/events");
  live.source = source;
  const scroll = () => { const auto = $("live-autoscroll"); if (!auto || auto.checked) logEl.scrollTop = logEl.scrollHeight; };
  source.addEventListener("status", (e) => { statusEl.textContent = id + ": " + JSON.parse(e.data); });
  source.addEventListener("log", (e) => { logEl.textContent += JSON.parse(e.data); scroll(); });
  source.addEventListener("end", (e) => {
    const record = JSON.parse(e.data);
    source.close();
    if (live.source === source) live.source = null;
    statusEl.textContent = id + ": " + record.status;
    logEl.textContent = record.log || logEl.textContent;
    scroll();
    if (onEnd) onEnd(record);
  });
  source.onerror = () => { if (source.readyState === EventSource.CLOSED) statusEl.textContent = id + ": connection closed"; };
}

function setupLivePanel() {
  const panel = $("live");
  if (!panel) return;
  const name = panel.dataset.function, pick = $("live-pick");
  pick.addEventListener("change", () => { if (pick.value) follow(pick.value, $("live-log"), $("live-status")); });
  async function refresh() {
    try {
      const response = await fetch("/ui/functions/" + encodeURIComponent(name) + "/running", { credentials: "same-origin" });
      if (!response.ok) return;
      const running = (await response.json()).running;
      const ids = new Set(running.map((r) => r.id));
      if (live.following) ids.add(live.following);
      const current = pick.value;
      pick.replaceChildren();
      const none = document.createElement("option");
      none.value = ""; none.textContent = running.length ? "(choose one of " + running.length + ")" : "(none running)";
      pick.appendChild(none);
      for (const id of ids) {
        const option = document.createElement("option");
        const row = running.find((r) => r.id === id);
        option.value = id; option.textContent = id + (row ? " · " + row.status : "");
        pick.appendChild(option);
      }
      pick.value = ids.has(current) ? current : "";
      if (!live.source && running.length === 1 && running[0].id !== live.following) {
        pick.value = running[0].id;
        follow(running[0].id, $("live-log"), $("live-status"));
      }
    } catch (err) { /* the server restarted or the network blinked: try again on the next tick */ }
  }
  refresh();
  setInterval(refresh, 2000);
}

// -- the run dialog -------------------------------------------------------------------------------------------------
// The parameters' values: text as typed (the server converts it to the declared type), files as base64. A blank
// number or json field, or a blank one without a default, is left out (its default applies, or "required").
async function parameterValues(container) {
  const values = {};
  for (const input of container.querySelectorAll("[data-param]")) {
    const name = input.dataset.param, type = input.dataset.type;
    if (type === "file") {
      if (!input.files.length) continue;
      const file = input.files[0], bytes = new Uint8Array(await file.arrayBuffer());
      let binary = "";
      for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      values[name] = { Filename: file.name, ContentBase64: btoa(binary) };
    } else if (input.value === "" && (type === "number" || type === "json" || input.dataset.default !== "True")) {
      continue;
    } else {
      values[name] = input.value;
    }
  }
  return values;
}

function setupRunDialog() {
  const dialog = $("run-dialog"), open = $("run-open");
  if (!dialog || !open) return;
  const name = dialog.dataset.function;
  open.addEventListener("click", () => dialog.showModal());
  $("run-close").addEventListener("click", () => dialog.close());
  const show = (record) => {
    $("run-output").hidden = false;
    const link = $("run-id");
    link.textContent = record.id; link.href = "/ui/invocations/" + encodeURIComponent(record.id);
    const status = $("run-status");
    status.textContent = record.status; status.className = "status " + record.status;
    $("run-result").textContent = record.result || "";
    const trace = $("run-trace");
    trace.textContent = record.stack_trace || ""; trace.hidden = !record.stack_trace;
    $("run-log").textContent = record.log || "";
    const artifacts = record.artifacts || [], list = $("run-artifacts");
    list.replaceChildren(...artifacts.map((a) => {
      const item = document.createElement("li"), link = document.createElement("a");
      link.href = a.url; link.download = a.name.split("/").pop(); link.textContent = a.name;
      item.append(link, " (" + a.size + " bytes)");
      return item;
    }));
    $("run-artifacts-box").hidden = !artifacts.length;
  };
  $("run-submit").addEventListener("click", async () => {
    const error = $("run-payload-error"), params = $("run-params");
    error.hidden = true;
    let request;
    if (params) {  // the function declares parameters: the server builds and checks the event
      try { request = { parameters: await parameterValues(params) }; } catch (err) { error.textContent = err.message; error.hidden = false; return; }
    } else {
      const text = $("run-payload").value;
      try { JSON.parse(text || "null"); } catch (err) { error.textContent = "Not valid JSON: " + err.message; error.hidden = false; return; }
      request = { payload: text };
    }
    const mode = dialog.querySelector("input[name=mode]:checked").value;
    const button = $("run-submit");
    button.disabled = true; button.textContent = "Running…";
    try {
      const response = await fetch("/ui/functions/" + encodeURIComponent(name) + "/run", {
        method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign(request, { mode: mode })),
      });
      const body = await response.json();
      if (!response.ok) { error.textContent = body.error + ": " + body.message; error.hidden = false; return; }
      if (mode === "sync") { show(body); return; }
      show({ id: body.id, status: "pending", result: "", log: "" });
      follow(body.id, $("run-log"), $("run-status"), (record) => show(record));
    } catch (err) {
      error.textContent = "The server did not answer: " + err.message; error.hidden = false;
    } finally {
      button.disabled = false; button.textContent = "Run";
    }
  });
}

// -- an invocation page whose invocation has not finished: follow its log ------------------------------------------
function setupFollow() {
  const log = document.querySelector("pre[data-follow]");
  if (!log) return;
  follow(log.dataset.follow, log, $("inv-status") || log, () => window.location.reload());
}

// -- the schedule form: the next fire times of the expression as it is typed ---------------------------------------
function setupSchedulePreview() {
  const expression = $("schedule-expression"), zone = $("schedule-timezone"), list = $("schedule-next"), error = $("schedule-preview-error");
  if (!expression || !list) return;
  let timer = null;
  const update = async () => {
    const query = new URLSearchParams({ expression: expression.value, timezone: zone.value || "UTC" });
    try {
      const response = await fetch("/ui/schedules/preview?" + query, { credentials: "same-origin" });
      const body = await response.json();
      list.replaceChildren(...(body.next || []).map((t) => { const li = document.createElement("li"); li.textContent = t; return li; }));
      error.textContent = body.error || ""; error.hidden = !body.error;
    } catch (err) { /* keep what is shown; the server checks again on save */ }
  };
  [expression, zone].forEach((input) => input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(update, 250); }));
}

// -- forms that ask first (data-confirm holds the question) ---------------------------------------------------------
function setupConfirms() {
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (e) => { if (!window.confirm(form.dataset.confirm)) e.preventDefault(); });
  });
}

document.addEventListener("DOMContentLoaded", () => { setupConfirms(); setupDropzone(); setupRunDialog(); setupLivePanel(); setupFollow(); setupSchedulePreview(); });
