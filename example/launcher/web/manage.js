// The manage page: shows the state of the Livebook a manage link names and
// offers Stop, Start and Delete. The link's sealed code is the URL
// fragment, which the browser never sends; this page hands it to the
// server as its resume blob, from memory (not sessionStorage), and renders
// the views the server sends, sentences included. It is an ES module: the
// page's import map maps "sealkit-resume" to the hooks script's versioned
// URL and pins its Subresource Integrity.
import { connectResume } from "sealkit-resume";

const $ = (id) => document.getElementById(id);
const statusText = { connecting: "Connecting…", open: "Connected", retrying: "Connection lost, reconnecting…", closed: "Disconnected" };
let blob = location.hash.slice(1) || null;
const storage = { getItem: () => blob, setItem: (_key, value) => { blob = value; }, removeItem: () => { blob = null; } };
let connection = "connecting"; // the resume client's status
let view = {}; // the latest view from the server
let known = ""; // the last state the server read from Fly: kept while Fly cannot be reached
let waiting = false; // an action was sent and has no reply yet
let confirming = false; // the delete confirmation is open

function showError(msg) {
  $("error").textContent = msg || "";
  $("error").hidden = !msg;
}

function render() {
  const v = view;
  // A stale view (Fly cannot be reached) keeps the last known state, and
  // with it the actions it allows.
  const state = (v.stale ? v.state || known : v.state) || "";
  const idle = connection === "open" && !v.busy && !waiting;
  $("manage-app").textContent = v.app || "your Livebook";
  $("manage-state").textContent = state;
  $("manage-state").dataset.state = state;
  $("manage-state").dataset.stale = String(Boolean(v.stale));
  $("state-line").hidden = !state;
  let message = v.message || "";
  if (v.stale && !v.state && known) message += " Your Livebook was last seen " + known + ".";
  $("manage-message").textContent = message;
  if (v.error) showError(v.error);
  $("manage-url-line").hidden = !v.url || state === "gone";
  if (v.url) {
    $("manage-url").href = v.url;
    $("manage-url").textContent = $("manage-url").href;
  }
  const deletable = idle && ["running", "starting", "stopping", "stopped"].includes(state);
  $("stop").disabled = !idle || !["running", "starting"].includes(state);
  $("start").disabled = !idle || state !== "stopped";
  $("delete").disabled = !deletable;
  $("actions").hidden = state === "gone" || !state;
  confirming = confirming && deletable;
  $("confirm").hidden = !confirming;
  $("manage-expires").hidden = !v.expires || state === "gone";
  $("manage-expires").textContent = v.expires || "";
}

// keepFocus moves focus to the page's message, which says what the action
// is doing and then how it ended, when the action takes it away: its button
// is disabled while it runs, and the confirmation closes (the browser moves
// focus off them to <body> only later, at its next rendering).
function keepFocus() {
  const el = document.activeElement;
  if (!el || el === document.body || el.disabled || el.closest("[hidden]")) $("manage-message").focus();
}

async function act(name, data) {
  showError("");
  confirming = false;
  waiting = true;
  render();
  keepFocus();
  try {
    await client.action(name, data);
  } catch (err) {
    showError(err && err.message ? err.message : String(err));
  } finally {
    waiting = false;
    render();
    keepFocus();
  }
}

$("stop").addEventListener("click", () => act("stop"));
$("start").addEventListener("click", () => act("start"));
$("delete").addEventListener("click", () => {
  $("confirm-app").textContent = view.app || "";
  confirming = true;
  render();
  $("confirm-delete").focus();
});
$("cancel-delete").addEventListener("click", () => {
  confirming = false;
  render();
  $("delete").focus();
});
$("confirm-delete").addEventListener("click", () => act("delete", { confirm: view.app }));

function onView(_seq, data) {
  if (!data || typeof data !== "object") return;
  view = data;
  if (data.state && !data.busy) known = data.state; // a change under way is no state yet
  if (!data.error) showError("");
  render();
}

const client = connectResume({
  url: "/manage/resume",
  key: "manage",
  storage,
  onSnapshot: onView,
  onEvent: onView,
  onStatus: (status) => {
    connection = status;
    $("status").dataset.status = status;
    $("status").textContent = statusText[status] || status;
    render();
  },
});
