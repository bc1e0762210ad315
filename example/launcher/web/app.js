// The launcher page renders the whole view the server sends in every
// snapshot and event, and keeps no secret: the sealed blob is the hooks
// client's business ("sealkit-resume" comes from the page's import map).
import { connectResume } from "sealkit-resume";

const $ = (id) => document.getElementById(id);
const views = { form: $("form-view"), progress: $("progress-view"), summary: $("summary-view") };
const statusText = { connecting: "Connecting…", open: "Connected", retrying: "Connection lost, reconnecting…", closed: "Disconnected" };
const nameError = "The app name must be 2 to 63 lowercase letters, digits or dashes, start with a letter and not end with a dash.";

let connection = "connecting"; // the resume client's status
let busy = false; // a launch was sent and the server has not answered it yet
let unavailable = ""; // why launching is unavailable right now, from the server
let current = null; // the view on screen: form, progress or summary
let finished = null; // the view of the finished launch on screen
let running = null; // {el, ms, at} of the running step, for the ticking timer
let bar = null; // {from, to, eta, at}: the bar moves from -> to over eta ms while a step runs

// show puts view name on screen. When focus was in the view it hides (the
// Launch button, the progress heading) or nowhere, it moves to target, by
// default the new view's heading, so that keyboard and screen reader users
// land on what changed.
function show(name, target = views[name].querySelector("h1")) {
  const previous = current;
  current = name;
  for (const [k, el] of Object.entries(views)) el.hidden = k !== name;
  const lost = document.activeElement === document.body || (previous && views[previous].contains(document.activeElement));
  if (previous && previous !== name && lost) target.focus();
}

function showError(msg) {
  $("error").textContent = msg || "";
  $("error").hidden = !msg;
}

function renderForm() {
  const noOrg = Boolean($("org")) && $("org").disabled; // visitor mode: no org listed yet
  $("launch").disabled = busy || connection !== "open" || Boolean(unavailable) || noOrg;
  $("launch").textContent = busy ? "Launching…" : "Launch";
  $("unavailable").textContent = unavailable;
  $("unavailable").hidden = !unavailable;
}

// setOrgs offers a token's organizations; with none, it asks for a token.
function setOrgs(orgs) {
  const options = orgs.map((o) => new Option(o.name + " (" + o.slug + ")", o.slug));
  $("org").replaceChildren(...(orgs.length ? options : [new Option("Enter your token first", "")]));
  $("org").disabled = orgs.length === 0;
  renderForm();
}

function fmt(ms) {
  if (ms == null) return "";
  if (ms < 1000) return Math.round(ms) + " ms";
  return ms < 10000 ? (ms / 1000).toFixed(1) + " s" : Math.round(ms / 1000) + " s";
}

function renderSteps(steps) {
  $("steps").replaceChildren(...(steps || []).map((s) => {
    const li = $("step-row").content.firstElementChild.cloneNode(true);
    const [title, state, time] = li.querySelectorAll(".title, .visually-hidden, .time");
    li.className = s.state;
    title.textContent = s.title;
    state.textContent = " (" + s.state + ")";
    time.textContent = fmt(s.ms);
    if (s.state === "running") running = { el: time, ms: s.ms || 0, at: performance.now() };
    return li;
  }));
}

function setProgress(percent) {
  $("progress").value = percent;
  $("progress-pct").textContent = Math.round(percent) + "%";
}

function render(v) {
  if (!v || typeof v !== "object") return;
  // A finished launch stays on screen until the user moves on, even if the
  // connection comes back meanwhile (the server sees a fresh client once
  // the blob is cleared), unless the server says why it cleared a launch.
  if (v.phase === "idle" && finished && !v.error) return;
  finished = v.phase === "done" ? v : null;
  busy = false;
  running = null;
  bar = null;
  if ($("token") && (v.phase === "running" || v.phase === "done")) {
    $("token").value = ""; // the launch holds the token now, sealed in the tab
    setOrgs([]);
  }
  if (v.phase === "running") {
    $("progress-app").textContent = v.app || "";
    bar = { from: v.progress || 0, to: v.progress_to || v.progress || 0, eta: v.eta_ms || 0, at: performance.now() };
    setProgress(bar.from);
    $("step").textContent = v.step || "";
    renderSteps(v.steps);
    show("progress");
  } else if (v.phase === "done") {
    setProgress(100);
    $("summary-url").href = v.url;
    $("summary-url").textContent = $("summary-url").href; // absolute, to copy
    $("summary-password").textContent = v.password;
    $("summary-manage-term").hidden = !v.manage;
    $("summary-manage-def").hidden = !v.manage;
    $("summary-manage").href = v.manage || "#";
    $("summary-manage-note").textContent = v.manage_note || "";
    showError("");
    show("summary");
  } else if (v.phase === "idle" || v.phase === "failed") {
    unavailable = v.unavailable || "";
    if (v.error) showError(v.error); // why the launch failed, or was cleared
    if (v.orgs) setOrgs(v.orgs);
    renderForm();
    show("form", v.error ? $("error") : undefined);
  }
}

function onStatus(status) {
  connection = status;
  $("status").dataset.status = status;
  $("status").textContent = statusText[status] || status;
  renderForm();
}

$("launch-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = e.currentTarget;
  const app = form.elements.app;
  const valid = app.checkValidity();
  app.setAttribute("aria-invalid", String(!valid));
  app.setAttribute("aria-describedby", valid ? "app-hint" : "app-hint error");
  if (!valid) {
    showError(nameError);
    app.focus();
    return;
  }
  showError("");
  busy = true;
  renderForm();
  const data = { app: app.value, region: form.elements.region.value, size: form.elements.size.value };
  if (form.elements.token) Object.assign(data, { token: form.elements.token.value.trim(), org: form.elements.org.value });
  try {
    await client.action("launch", data);
  } catch (err) {
    busy = false;
    renderForm();
    showError(err && err.message ? err.message : String(err));
    $("error").focus(); // the Launch button was disabled: focus fell off it
  }
});

// Visitor mode: the server lists the organizations the visitor's token
// reaches (one call to Fly); the page offers them, and only them.
async function findOrgs() {
  const token = $("token").value.trim();
  setOrgs([]); // the orgs offered were the previous token's
  showError("");
  if (!token) return;
  try {
    await client.action("orgs", { token });
  } catch (err) {
    showError(err && err.message ? err.message : String(err));
  }
}
$("token")?.addEventListener("change", findOrgs);
$("demo-token")?.addEventListener("click", (e) => {
  $("token").value = e.currentTarget.dataset.token;
  findOrgs();
});

// copy puts text on the clipboard, or selects it where that is refused.
// The button then reads "Copied": its name ("Copied the password") follows.
async function copy(button, text, what, select) {
  try {
    await navigator.clipboard.writeText(text);
    button.firstElementChild.textContent = "Copied";
    $("copy-status").textContent = what + " copied to the clipboard";
  } catch {
    getSelection().selectAllChildren(select);
    $("copy-status").textContent = what + " selected; press Ctrl+C to copy it";
  }
}
$("copy").addEventListener("click", (e) => copy(e.currentTarget, finished.password, "Password", $("summary-password")));
$("copy-manage").addEventListener("click", (e) => copy(e.currentTarget, $("summary-manage").href, "Manage link", $("summary-manage")));

// A new launch starts from a fresh page, with a new suggested name.
$("again").addEventListener("click", () => location.reload());

// The server weighs the bar by how long each step takes; between its
// updates the bar moves on towards the running step's end, stopping short
// of it until the step is really done.
setInterval(() => {
  if (running) running.el.textContent = fmt(running.ms + performance.now() - running.at);
  if (bar && bar.eta > 0 && bar.to > bar.from && current === "progress") {
    const share = Math.min(0.95, (performance.now() - bar.at) / bar.eta);
    setProgress(bar.from + (bar.to - bar.from) * share);
  }
}, 250);

const client = connectResume({
  url: "resume",
  key: "launch",
  onSnapshot: (_seq, data) => render(data),
  onEvent: (_seq, data) => render(data),
  onStatus,
});
