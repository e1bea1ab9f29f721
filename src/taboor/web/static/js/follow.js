// A customer follows their ticket on their phone (the kiosk's QR code opens this page
// with the company's public key in the fragment): number, status, people ahead and the
// estimated wait, kept live by the ticket's event stream.

import {
  ApiError,
  api,
  applyTexts,
  coalesced,
  deviceKey,
  languageChosen,
  languageSwitch,
  minutes,
  pathId,
  setLocale,
  showProblem,
  t,
} from "./common.js";
import { followStream } from "./sse.js";

const ticketId = pathId();
const key = deviceKey();
const link = document.getElementById("link");
const FINAL = new Set(["served", "cancelled", "no_show"]);
let ticket = null;
let stream = null;

function render() {
  if (!ticket) return;
  document.getElementById("number").textContent = ticket.ticketNumber;
  document.getElementById("service").textContent = ticket.service?.name ?? "";
  document.getElementById("status").textContent = t(`screen.status.${ticket.status}`);
  const waiting = ticket.status === "waiting";
  document.getElementById("ahead").textContent = waiting ? ticket.queueSize : "–";
  document.getElementById("eta").textContent = waiting ? minutes(ticket.waitingTime) : "–";
  document.getElementById("turn").hidden = ticket.status !== "called";
  document.body.dataset.status = ticket.status;
}

const load = coalesced(async () => {
  try {
    ticket = await api(`/external/v1/tickets/${encodeURIComponent(ticketId)}`, { token: key });
    showProblem(null);
    render();
  } catch (error) {
    const missing = error instanceof ApiError && error.status === 422;
    showProblem(missing ? t("screen.follow.not_found") : t("screen.offline"));
  }
});

function onEvent(message) {
  let change;
  try {
    change = JSON.parse(message.data);
  } catch {
    return;
  }
  if (!ticket) return load();
  const before = ticket.status;
  ticket = { ...ticket, ...change };
  if (change.status !== "waiting") {
    delete ticket.queueSize;
    delete ticket.waitingTime;
  }
  render();
  if (change.status === "called" && before !== "called") navigator.vibrate?.([300, 150, 300]);
  if (FINAL.has(change.status)) stream?.close(); // the server ends the stream here too
}

if (!languageChosen() && navigator.language?.toLowerCase().startsWith("ar")) setLocale("ar");
applyTexts();
languageSwitch(document.getElementById("lang"), "follow", render);
if (!key) {
  showProblem(t("screen.no_key"));
} else {
  load();
  stream = followStream(`/external/v1/tickets/${encodeURIComponent(ticketId)}/events`, {
    headers: () => ({ Authorization: `Bearer ${key}` }),
    onEvent,
    onUp: () => {
      link.hidden = true;
      load(); // the state now; the stream brings the changes after it
    },
    onDown: (error) => {
      link.hidden = false;
      if (error?.status === 422) stream.close(); // no such ticket: nothing to follow
    },
  });
}
