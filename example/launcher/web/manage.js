// The manage page: shows the state of the Livebook a manage link names and
// offers Stop, Start and Delete. The link's sealed code is the URL
// fragment, which the browser never sends; this page hands it to the
// server as its resume blob, from memory (not sessionStorage), and
// renders the views the server sends. It is an ES module, like app.js.
import { connectResume } from "sealkit-resume";

{
  const $ = (id) => document.getElementById(id);
  let blob = location.hash.slice(1) || null;
  const storage = {
    getItem: () => blob,
    setItem: (_key, value) => { blob = value; },
    removeItem: () => { blob = null; },
  };
  const resultMessages = {
    expired: "This manage link has expired: a link works for 30 days after its launch. Nothing was changed.",
    invalid: "This manage link is not valid: it was altered, or made by another server. Nothing was changed.",
  };
  let client = null;
  let view = {};
  let known = ""; // the last state the server read from Fly: kept while Fly cannot be reached
  let waiting = false; // an action was sent and has no reply yet

  function showError(msg) {
    $("error").textContent = msg || "";
    $("error").hidden = !msg;
  }

  function render() {
    const v = view;
    // A stale view (Fly cannot be reached) keeps the last known state, and
    // with it the actions it allows.
    const state = (v.stale ? v.state || known : v.state) || "";
    const open = client && client.status === "open";
    const idle = open && !v.busy && !waiting;
    $("manage-app").textContent = v.app || "your Livebook";
    $("manage-state").textContent = state;
    $("manage-state").dataset.state = state;
    $("state-line").hidden = !state;
    $("manage-state").dataset.stale = v.stale ? "true" : "false";
    let message = v.message || "";
    if (v.stale && !v.state && known) message += " Your Livebook was last seen " + known + ".";
    $("manage-message").textContent = message;
    if (v.error) showError(v.error);
    const url = $("manage-url");
    $("manage-url-line").hidden = !v.url || state === "gone";
    if (v.url) {
      url.href = v.url;
      url.textContent = url.href;
    }
    $("stop").disabled = !idle || !["running", "starting"].includes(state);
    $("start").disabled = !idle || state !== "stopped";
    $("delete").disabled = !idle || !["running", "starting", "stopping", "stopped"].includes(state);
    $("actions").hidden = state === "gone" || !state;
    if ($("delete").disabled) $("confirm").hidden = true;
    $("manage-expires").hidden = !v.expires || state === "gone";
    $("manage-expires").textContent = "This link works until " + v.expires +
      ". Anyone who has it can stop, start or delete this Livebook: keep it private.";
  }

  async function act(name, data) {
    showError("");
    $("confirm").hidden = true;
    waiting = true;
    render();
    try {
      await client.action(name, data);
    } catch (err) {
      showError(err && err.message ? err.message : String(err));
    } finally {
      waiting = false;
      render();
    }
  }

  $("stop").addEventListener("click", () => act("stop"));
  $("start").addEventListener("click", () => act("start"));
  $("delete").addEventListener("click", () => {
    $("confirm-app").textContent = view.app || "";
    $("confirm").hidden = false;
    $("confirm-delete").focus();
  });
  $("cancel-delete").addEventListener("click", () => {
    $("confirm").hidden = true;
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

  client = connectResume({
    url: "/manage/resume",
    key: "manage",
    storage,
    onResult: (r) => { if (resultMessages[r.status]) showError(resultMessages[r.status]); },
    onSnapshot: onView,
    onEvent: onView,
    onStatus: (status) => {
      const el = $("status");
      el.dataset.status = status;
      el.textContent = {
        connecting: "Connecting…",
        open: "Connected",
        retrying: "Connection lost, reconnecting…",
        closed: "Disconnected",
      }[status] || status;
      render();
    },
  });
}
