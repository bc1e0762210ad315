// The manage page: the state of the Livebook a manage link names, with Stop,
// Start and Delete. The link's sealed code, the URL fragment (which browsers
// never send), is the page's resume blob, kept in memory, not sessionStorage.
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
  // A stale view (Fly cannot be reached) keeps the last known state's actions.
  const state = (v.stale ? v.state || known : v.state) || "";
  const idle = connection === "open" && !v.busy && !waiting;
  $("manage-app").textContent = v.app || "your Livebook";
  $("manage-state").textContent = state;
  $("manage-state").dataset.state = state;
  $("manage-state").dataset.stale = String(Boolean(v.stale));
  $("state-line").hidden = !state;
  const lastSeen = v.stale && !v.state && known ? " Your Livebook was last seen " + known + "." : "";
  $("manage-message").textContent = (v.message || "") + lastSeen;
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

// keepFocus moves focus to the message, which tells how the action goes, off
// a control the action disabled or hid (the browser would drop it on <body>).
function keepFocus() {
  const el = document.activeElement;
  if (!el || el === document.body || el.disabled || el.closest("[hidden]")) $("manage-message").focus();
}

async function act(name, data) {
  showError("");
  waiting = true; // which closes the delete confirmation
  render();
  keepFocus();
  await client.action(name, data).catch((err) => showError(err?.message || String(err)));
  waiting = false;
  render();
  keepFocus();
}

function confirmDelete(open) {
  $("confirm-app").textContent = view.app || "";
  confirming = open;
  render();
  $(open ? "confirm-delete" : "delete").focus();
}

function onView(_seq, data) {
  if (!data || typeof data !== "object") return;
  view = data;
  if (data.state && !data.busy) known = data.state; // a change under way is no state yet
  if (!data.error) showError("");
  render();
}

function onStatus(status) {
  connection = status;
  $("status").dataset.status = status;
  $("status").textContent = statusText[status] || status;
  render();
}

$("stop").addEventListener("click", () => act("stop"));
$("start").addEventListener("click", () => act("start"));
$("delete").addEventListener("click", () => confirmDelete(true));
$("cancel-delete").addEventListener("click", () => confirmDelete(false));
$("confirm-delete").addEventListener("click", () => act("delete", { confirm: view.app }));
const client = connectResume({ url: "/manage/resume", key: "manage", storage, onSnapshot: onView, onEvent: onView, onStatus });
