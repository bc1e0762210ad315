// The launcher page: renders the views the server sends over the resume
// protocol. The server sends the whole view in every snapshot and event, so
// rendering is a pure function of the latest one. No secrets are kept here:
// the sealed blob is the hooks client's business, and the password arrives
// only in the final view.
// It is an ES module: the page's import map maps "sealkit-resume" to the
// hooks script's versioned URL and pins its Subresource Integrity.
import { connectResume } from "sealkit-resume";

{
  const $ = (id) => document.getElementById(id);
  const views = { form: $("form-view"), progress: $("progress-view"), summary: $("summary-view") };
  const storageKey = "launch";
  const resultMessages = {
    expired: "The launch saved in this browser has expired, so it was cleared. You can start a new launch.",
    invalid: "The launch saved in this browser could not be read (it was altered, or sealed by another server), so it was cleared. You can start a new launch.",
    unbound: "The launch saved in this browser belongs to another session, so it was cleared. You can start a new launch.",
  };
  let client = null;
  let showingSummary = false;
  let running = null; // {el, ms, at} of the running step, for the ticking timer
  let bar = null; // {from, to, eta, at}: the bar moves from -> to over eta ms while a step runs

  function show(name) {
    for (const [k, el] of Object.entries(views)) el.hidden = k !== name;
  }
  function showError(msg) {
    const el = $("error");
    el.textContent = msg || "";
    el.hidden = !msg;
  }
  function fmt(ms) {
    if (ms == null) return "";
    if (ms < 1000) return Math.round(ms) + " ms";
    return ms < 10000 ? (ms / 1000).toFixed(1) + " s" : Math.round(ms / 1000) + " s";
  }
  let unavailable = ""; // why launching is unavailable right now, from the server
  function setBusy(busy) {
    $("launch").disabled = busy || !client || !!unavailable;
    $("launch").textContent = busy ? "Launching…" : "Launch";
  }
  function setUnavailable(msg) {
    unavailable = msg || "";
    $("unavailable").textContent = unavailable;
    $("unavailable").hidden = !unavailable;
  }

  function renderSteps(steps) {
    const ol = $("steps");
    ol.replaceChildren();
    running = null;
    for (const s of steps || []) {
      const li = document.createElement("li");
      li.className = s.state;
      const icon = document.createElement("span");
      icon.className = "icon";
      icon.setAttribute("aria-hidden", "true");
      const title = document.createElement("span");
      title.textContent = s.title;
      const state = document.createElement("span");
      state.className = "visually-hidden";
      state.textContent = " (" + s.state + ")";
      const time = document.createElement("span");
      time.className = "time";
      time.textContent = fmt(s.ms);
      li.append(icon, title, state, time);
      ol.append(li);
      if (s.state === "running") running = { el: time, ms: s.ms || 0, at: performance.now() };
    }
  }

  function render(v) {
    if (!v || typeof v !== "object") return;
    switch (v.phase) {
      case "idle":
        // A finished launch stays on screen until the user moves on, even
        // if the connection comes back meanwhile (the server sees a fresh
        // client once the blob is cleared).
        if (showingSummary) return;
        show("form");
        setUnavailable(v.unavailable);
        setBusy(false);
        break;
      case "running":
        showingSummary = false;
        $("progress-app").textContent = v.app || "";
        bar = { from: v.progress || 0, to: v.progress_to || v.progress || 0, eta: v.eta_ms || 0, at: performance.now() };
        setProgress(bar.from);
        $("step").textContent = v.step || "";
        renderSteps(v.steps);
        show("progress");
        break;
      case "done":
        showingSummary = true;
        running = null;
        bar = null;
        $("progress").value = 100;
        $("summary-url").href = v.url;
        $("summary-url").textContent = $("summary-url").href; // absolute, to copy

        $("summary-password").textContent = v.password;
        for (const id of ["summary-manage-term", "summary-manage-def"]) $(id).hidden = !v.manage;
        $("summary-manage").href = v.manage || "#";
        if (v.manage) {
          $("summary-manage-note").textContent = "Keep the manage link too: it is valid for 30 days, until " + v.manage_until + ", and anyone who has it can stop, start or delete this Livebook.";
        } else if (v.manage_issued) {
          $("summary-manage-note").textContent = "This launch finished earlier: its manage link was given once, to the page that watched it finish.";
        } else {
          $("summary-manage-note").textContent = "";
        }
        showError("");
        show("summary");
        $("summary-title").focus(); // screen readers announce the result
        break;
      case "failed":
        showingSummary = false;
        running = null;
        bar = null;
        showError(v.error || "The launch failed.");
        show("form");
        setUnavailable(v.unavailable);
        setBusy(false);
        break;
    }
  }

  function onStatus(status) {
    const el = $("status");
    el.dataset.status = status;
    el.textContent = {
      connecting: "Connecting…",
      open: "Connected",
      retrying: "Connection lost, reconnecting…",
      closed: "Disconnected",
    }[status] || status;
    $("launch").disabled = status !== "open" || $("launch").textContent !== "Launch" || !!unavailable;
  }

  function onResult(result) {
    if (resultMessages[result.status]) {
      showError(resultMessages[result.status]);
      showingSummary = false;
    }
  }

  $("launch-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const app = form.elements.app;
    if (!app.checkValidity()) {
      showError("The app name must be 2 to 63 lowercase letters, digits or dashes, start with a letter and not end with a dash.");
      app.focus();
      return;
    }
    showError("");
    setBusy(true);
    try {
      await client.action("launch", {
        app: app.value,
        region: form.elements.region.value,
        size: form.elements.size.value,
      });
    } catch (err) {
      showError(err && err.message ? err.message : String(err));
      setBusy(false);
    }
  });

  async function copy(button, text, what, select) {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
      $("copy-status").textContent = what + " copied to the clipboard";
    } catch {
      const range = document.createRange();
      range.selectNodeContents(select);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      $("copy-status").textContent = what + " selected; press Ctrl+C to copy it";
    }
  }
  $("copy").addEventListener("click", () => copy($("copy"), $("summary-password").textContent, "Password", $("summary-password")));
  $("copy-manage").addEventListener("click", () => copy($("copy-manage"), $("summary-manage").href, "Manage link", $("summary-manage")));

  function setProgress(percent) {
    $("progress").value = percent;
    $("progress-pct").textContent = Math.round(percent) + "%";
  }

  // The server weighs the bar by how long each step takes; between its
  // updates the bar moves on towards the running step's end, stopping
  // short of it until the step is really done.
  function tickProgress() {
    if (!bar || bar.eta <= 0 || bar.to <= bar.from || $("progress-view").hidden) {
      return;
    }
    const share = Math.min(0.95, (performance.now() - bar.at) / bar.eta);
    setProgress(bar.from + (bar.to - bar.from) * share);
  }

  // A new launch starts from a fresh page, with a new suggested name.
  $("again").addEventListener("click", () => location.reload());

  setInterval(() => {
    if (running) running.el.textContent = fmt(running.ms + performance.now() - running.at);
    tickProgress();
  }, 250);

  client = connectResume({
    url: "resume",
    key: storageKey,
    onResult,
    onSnapshot: (_seq, data) => render(data),
    onEvent: (_seq, data) => render(data),
    onStatus,
  });
}
