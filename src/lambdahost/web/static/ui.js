// lambdahost web UI: the zip drop zone, the run dialog and the live log panel. Plain JavaScript, no library.
"use strict";

function $(id) { return document.getElementById(id); }

// -- the create/edit form: a zip dropped on the zone goes into its file input --------------------------------------
function setupDropzone() {
  const zone = $("dropzone"), input = $("package"), label = $("dropzone-label");
  if (!zone || !input) return;
  const show = () => { if (input.files.length) label.textContent = input.files[0].name + " (" + input.files[0].size + " bytes)"; };
  input.addEventListener("change", show);
  ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (e) => { e.preventDefault(); zone.classList.add("over"); }));
  ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => zone.classList.remove("over")));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; show(); }
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

// -- forms that ask first (data-confirm holds the question) ---------------------------------------------------------
function setupConfirms() {
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (e) => { if (!window.confirm(form.dataset.confirm)) e.preventDefault(); });
  });
}

document.addEventListener("DOMContentLoaded", () => { setupConfirms(); setupDropzone(); setupRunDialog(); setupLivePanel(); setupFollow(); });
