// The staff console at a counter: sign in, pick a branch and a counter, then work it:
// the live queue of the counter's services with estimates, one-click moves for the
// ticket at the counter, appointment check-in, and the counter's figures for today.
// The session token lives in sessionStorage: it ends with the browser tab.

import {
  ApiError,
  api,
  applyTexts,
  coalesced,
  h,
  languageSwitch,
  minutes,
  t,
} from "./common.js";
import { followStream } from "./sse.js";

const STAFF = "/staff/v1";
const store = sessionStorage;
const $ = (id) => document.getElementById(id);
let token = store.getItem("taboor.staff.token");
let branchId = store.getItem("taboor.console.branch");
let counterId = store.getItem("taboor.console.counter");
let branches = [];
let counter = null; // the Counter as the API gives it
let queue = null; // the branch's live queue
let today = null; // the counter's day
let stream = null;
let busy = false;

// --- small helpers -------------------------------------------------------------------

function toast(text, kind = "error") {
  const line = $("toast");
  line.textContent = text;
  line.className = `toast ${kind}`;
  line.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (line.hidden = true), 5000);
}

function showOnly(id) {
  for (const section of ["login", "setup", "work"]) $(section).hidden = section !== id;
  $("signout").hidden = id === "login";
  $("change").hidden = id !== "work";
  $("close").hidden = id !== "work";
}

const call = (path, options = {}) => api(STAFF + path, { token, ...options });

/**
 * Run a person's action (a click) once at a time: the console's buttons are disabled
 * while it runs, so a second click waits rather than being lost, and a refusal is
 * shown. The screen is then read again without holding the buttons.
 */
async function guarded(action) {
  if (busy) return;
  busy = true;
  const buttons = [...document.querySelectorAll("main button:not(:disabled)")];
  for (const button of buttons) button.disabled = true;
  document.body.classList.add("busy");
  try {
    return await action();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signedOut();
    // A 422 names the field's problem; other refusals say it in their message.
    if (error instanceof ApiError) toast(error.status === 422 ? error.reason : error.message);
    else toast(t("screen.error"));
  } finally {
    for (const button of buttons) button.disabled = false;
    busy = false;
    document.body.classList.remove("busy");
  }
}

function serviceName(serviceId) {
  return queue?.services.find((service) => service.id === serviceId)?.name ?? "";
}

// --- sign in -------------------------------------------------------------------------

function signedOut() {
  stream?.close();
  stream = null;
  token = null;
  store.clear();
  showOnly("login");
  $("where").textContent = "";
}

$("login").addEventListener("submit", async (submitted) => {
  submitted.preventDefault();
  const form = new FormData($("login"));
  $("login-error").textContent = "";
  try {
    const session = await api(`${STAFF}/login`, {
      method: "POST",
      body: { username: form.get("username"), password: form.get("password") },
    });
    token = session.token;
    store.setItem("taboor.staff.token", token);
    $("login").reset();
    await setup();
  } catch (error) {
    $("login-error").textContent = error instanceof ApiError ? error.reason : t("screen.error");
  }
});

$("signout").addEventListener("click", async () => {
  try {
    await call("/logout", { method: "POST" });
  } catch {
    // Signed out either way.
  }
  signedOut();
});

// --- branch and counter --------------------------------------------------------------

async function setup() {
  stream?.close();
  stream = null;
  showOnly("setup");
  branches = await call("/branches");
  const select = $("branch");
  select.replaceChildren(
    ...branches.map((branch) => h("option", { value: branch.id }, branch.name)),
  );
  if (!branches.some((branch) => branch.id === branchId)) branchId = branches[0]?.id ?? null;
  select.value = branchId ?? "";
  await showCounters();
}

$("branch").addEventListener("change", () => {
  branchId = $("branch").value;
  guarded(showCounters);
});

async function showCounters() {
  if (!branchId) return;
  const counters = await call(`/branches/${branchId}/counters`);
  $("counters").replaceChildren(
    ...counters.map((item) =>
      h(
        "button",
        {
          type: "button",
          class: `choice${item.open ? " taken" : ""}`,
          dataset: { counterId: item.id },
          onclick: () => guarded(() => openCounter(item.id)),
        },
        h("strong", {}, item.name),
        h(
          "span",
          {},
          item.heldBy
            ? t("screen.console.held_by", { name: item.heldBy.name })
            : t("screen.console.open_counter"),
        ),
      ),
    ),
  );
}

async function openCounter(id) {
  counter = await call(`/counters/${id}/open`, { method: "POST" });
  counterId = id;
  store.setItem("taboor.console.branch", branchId);
  store.setItem("taboor.console.counter", counterId);
  await work();
}

$("change").addEventListener("click", () => guarded(setup));
$("close").addEventListener("click", () =>
  guarded(async () => {
    await call(`/counters/${counterId}/close`, { method: "POST" });
    counterId = null;
    store.removeItem("taboor.console.counter");
    await setup();
  }),
);

// --- working the counter -------------------------------------------------------------

async function work() {
  showOnly("work");
  await refresh();
  stream?.close();
  stream = followStream(`/live/v1/branches/${branchId}/events`, {
    headers: () => ({ Authorization: `Bearer ${token}` }),
    onEvent: () => refresh(),
    onUp: () => {
      $("link").hidden = true;
      refresh();
    },
    onDown: (error) => {
      $("link").hidden = false;
      if (error?.status === 401) signedOut(); // the session ended (sign-out elsewhere, shift over)
    },
  });
}

// A slow safety net beside the stream (estimates also move with the clock).
setInterval(() => {
  if (!$("work").hidden) refresh();
}, 60000);

const refresh = coalesced(async () => {
  if (!token || !counterId) return;
  try {
    const [nextQueue, nextToday] = await Promise.all([
      call(`/branches/${branchId}/queue`),
      call(`/counters/${counterId}/today`),
    ]);
    queue = nextQueue;
    today = nextToday;
    counter = queue.counters.find((item) => item.id === counterId) ?? counter;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signedOut();
    throw error;
  }
  render();
});

function render() {
  const branch = branches.find((item) => item.id === branchId);
  $("where").textContent = [branch?.name, counter?.name].filter(Boolean).join(" · ");
  renderCurrent();
  renderQueue();
  renderToday();
}

function move(ticket, action, label, body, kind = "secondary") {
  return h(
    "button",
    {
      type: "button",
      class: kind,
      dataset: { action },
      onclick: () =>
        guarded(async () => {
          await call(`/tickets/${ticket.id}/${action}`, { method: "POST", body });
          refresh();
        }),
    },
    label,
  );
}

function renderCurrent() {
  const current = today.current[0];
  const box = $("current");
  const moves = $("moves");
  if (!current) {
    box.replaceChildren(h("p", { class: "muted" }, t("screen.console.nobody")));
    moves.replaceChildren();
    return;
  }
  box.replaceChildren(
    h(
      "div",
      { class: "ticket", dataset: { ticketId: current.id, status: current.status } },
      h("span", { class: "number" }, current.ticketNumber),
      h("span", {}, serviceName(current.serviceId)),
      h("span", { class: `status ${current.status}` }, t(`screen.status.${current.status}`)),
      current.customerName ? h("span", { class: "muted" }, current.customerName) : null,
    ),
  );
  const buttons = [];
  if (current.status === "called") {
    buttons.push(
      move(current, "start", t("screen.console.start"), undefined, "primary"),
      move(current, "recall", t("screen.console.recall")),
      move(current, "no-show", t("screen.console.no_show"), undefined, "danger"),
      move(current, "requeue", t("screen.console.requeue")),
    );
  } else if (current.status === "serving") {
    buttons.push(move(current, "finish", t("screen.console.finish"), undefined, "primary"));
  }
  const targets = queue.services.filter((service) => service.id !== current.serviceId);
  if (targets.length) {
    const select = h(
      "select",
      { "aria-label": t("screen.console.transfer") },
      ...targets.map((service) => h("option", { value: service.id }, service.name)),
    );
    buttons.push(
      h(
        "span",
        { class: "transfer" },
        select,
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            dataset: { action: "transfer" },
            onclick: () =>
              guarded(async () => {
                await call(`/tickets/${current.id}/transfer`, {
                  method: "POST",
                  body: { serviceId: select.value },
                });
                refresh();
              }),
          },
          t("screen.console.transfer"),
        ),
      ),
    );
  }
  moves.replaceChildren(...buttons);
}

function renderQueue() {
  const enabled = new Set(
    (counter?.services ?? []).filter((service) => service.enabled).map((service) => service.id),
  );
  const mine = queue.services.filter((service) => enabled.has(service.id));
  const waiting = mine.reduce((sum, service) => sum + service.waitingCount, 0);
  $("call-next").disabled = waiting === 0 || today.current.length > 0;
  $("queue").replaceChildren(
    ...mine.map((service) =>
      h(
        "section",
        { class: "service-queue", dataset: { serviceId: service.id } },
        h("h3", {}, service.name, h("span", { class: "count" }, service.waitingCount)),
        service.waiting.length
          ? h(
              "ol",
              { class: "list" },
              ...service.waiting.map((ticket) =>
                h(
                  "li",
                  { dataset: { ticketId: ticket.id } },
                  h("span", { class: "number" }, ticket.ticketNumber),
                  h("span", { class: "muted" }, ticket.customerName ?? ""),
                  h(
                    "span",
                    { class: "eta", title: t("screen.console.eta") },
                    minutes(ticket.waitingTime),
                  ),
                ),
              ),
            )
          : h("p", { class: "muted" }, t("screen.console.queue_empty")),
      ),
    ),
  );
}

function renderToday() {
  $("figures").replaceChildren(
    h("dt", {}, t("screen.console.served")),
    h("dd", { id: "served" }, today.served),
    h("dt", {}, t("screen.console.no_shows")),
    h("dd", { id: "no-shows" }, today.noShows),
    h("dt", {}, t("screen.console.average")),
    h(
      "dd",
      { id: "average" },
      today.averageServiceMinutes === null ? "–" : minutes(today.averageServiceMinutes),
    ),
  );
  $("appointments").replaceChildren(
    ...(today.appointments.length
      ? today.appointments.map((ticket) =>
          h(
            "li",
            { dataset: { ticketId: ticket.id } },
            h("span", { class: "number" }, ticket.ticketNumber),
            h(
              "span",
              {},
              new Date(ticket.time).toLocaleTimeString(document.documentElement.lang, {
                hour: "2-digit",
                minute: "2-digit",
                timeZone: branches.find((item) => item.id === branchId)?.timezone,
              }),
            ),
            h("span", { class: "muted" }, ticket.customerName ?? ""),
            move(ticket, "check-in", t("screen.console.check_in")),
          ),
        )
      : [h("li", { class: "muted" }, t("screen.console.no_appointments"))]),
  );
}

$("call-next").addEventListener("click", () =>
  guarded(async () => {
    const called = await call(`/counters/${counterId}/call-next`, { method: "POST" });
    if (called === null) toast(t("screen.console.empty_call"), "info");
    refresh();
  }),
);

// --- start ---------------------------------------------------------------------------

applyTexts();
languageSwitch($("lang"), "console", () => {
  if (!$("work").hidden) refresh();
  else if (!$("setup").hidden) guarded(setup);
});

(async () => {
  if (!token) return showOnly("login");
  try {
    branches = await call("/branches");
    if (counterId && branchId) {
      counter = await call(`/counters/${counterId}/open`, { method: "POST" });
      await work();
    } else {
      await setup();
    }
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signedOut();
    else guarded(setup);
  }
})();
