// The kiosk at a branch's door: large buttons for the walk-in services open now, a
// printed ticket (number, service, people ahead, estimated wait, a QR code to follow
// it on a phone), and check-in for appointment holders by the number on their slip.

import {
  ApiError,
  api,
  applyTexts,
  deviceKey,
  h,
  languageSwitch,
  locale,
  minutes,
  pathId,
  showProblem,
  t,
} from "./common.js";

const branchId = pathId();
const key = deviceKey();
const base = `/kiosk/v1/branches/${encodeURIComponent(branchId)}`;
const params = new URLSearchParams(location.search);
const printing = params.get("print") !== "0"; // ?print=0: show the ticket, print nothing
const BACK_HOME_MS = 20000;
const sections = ["home", "slip", "checkin"].map((id) => document.getElementById(id));
let branch = null;
let services = [];
let homeTimer = null;

function show(id) {
  for (const section of sections) section.hidden = section.id !== id;
  clearTimeout(homeTimer);
  if (id !== "home") homeTimer = setTimeout(goHome, BACK_HOME_MS);
}

function goHome() {
  show("home");
  loadServices();
}

async function loadServices() {
  try {
    const data = await api(`${base}/services`, { token: key });
    branch = data.branch;
    services = data.services;
    showProblem(null);
  } catch (error) {
    showProblem(error instanceof ApiError ? error.reason : t("screen.offline"));
    return;
  }
  document.getElementById("branch-name").textContent = branch.name;
  document.getElementById("none").hidden = services.length > 0;
  document.getElementById("services").replaceChildren(
    ...services.map((service) =>
      h(
        "button",
        {
          type: "button",
          class: "tile",
          disabled: !service.isOpen,
          dataset: { serviceId: service.id },
          onclick: () => takeTicket(service),
        },
        h("span", { class: "tile-name" }, service.name),
        h(
          "span",
          { class: "tile-info" },
          service.isOpen
            ? `${t("screen.kiosk.waiting", { count: service.waiting })} · ${minutes(service.waitingTime)}`
            : t("screen.kiosk.closed"),
        ),
      ),
    ),
  );
}

async function takeTicket(service) {
  let ticket;
  try {
    ticket = await api(`${base}/tickets`, {
      method: "POST",
      token: key,
      body: { serviceId: service.id },
    });
  } catch (error) {
    showProblem(error instanceof ApiError ? error.reason : t("screen.offline"));
    loadServices();
    return;
  }
  showProblem(null);
  document.getElementById("slip-branch").textContent = ticket.branch.name;
  document.getElementById("slip-number").textContent = ticket.ticketNumber;
  document.getElementById("slip-service").textContent = ticket.service.name;
  document.getElementById("slip-ahead").textContent = ticket.queueSize ?? "–";
  document.getElementById("slip-eta").textContent = minutes(ticket.waitingTime);
  document.getElementById("slip-time").textContent = new Date(ticket.bookedAt).toLocaleString(
    locale === "ar" ? "ar" : "en-GB",
    branch?.timezone ? { timeZone: branch.timezone } : {},
  );
  const qr = document.getElementById("slip-qr");
  qr.removeAttribute("src");
  show("slip");
  document.body.dataset.ticket = ticket.ticketNumber;
  try {
    // The follow page gets the same public key in its fragment: public keys are made
    // to be handed to customers, and the fragment never reaches any server log.
    const follow = `${location.origin}/follow/${ticket.id}#key=${encodeURIComponent(key)}`;
    qr.src = (await api("/kiosk/v1/qr", { method: "POST", token: key, body: { text: follow } })).svg;
    await qr.decode();
  } catch {
    // A ticket without its QR code is still a ticket.
  }
  if (printing) window.print();
}

document.getElementById("done").addEventListener("click", goHome);
document.getElementById("reprint").addEventListener("click", () => window.print());
document.getElementById("appointment").addEventListener("click", () => {
  document.getElementById("checkin").reset();
  document.getElementById("checkin-error").textContent = "";
  document.getElementById("checkin-ok").textContent = "";
  show("checkin");
  document.getElementById("number").focus();
});
document.getElementById("back").addEventListener("click", goHome);
document.getElementById("checkin").addEventListener("submit", async (submitted) => {
  submitted.preventDefault();
  const error = document.getElementById("checkin-error");
  const ok = document.getElementById("checkin-ok");
  error.textContent = ok.textContent = "";
  try {
    const ticket = await api(`${base}/check-in`, {
      method: "POST",
      token: key,
      body: { number: document.getElementById("number").value },
    });
    ok.textContent = t("screen.kiosk.checked_in", { number: ticket.ticketNumber });
    show("checkin"); // restart the way home
  } catch (refusal) {
    error.textContent = refusal instanceof ApiError ? refusal.reason : t("screen.offline");
  }
});

applyTexts();
languageSwitch(document.getElementById("lang"), "kiosk", () => loadServices());
if (!key) {
  showProblem(t("screen.no_key"));
} else {
  goHome();
  setInterval(() => {
    if (!document.getElementById("home").hidden) loadServices();
  }, 30000);
}
