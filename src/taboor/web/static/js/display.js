// The hall display of a branch: the last called tickets with their counters (the
// newest highlighted), the waiting count per service, and for every call a chime and
// a spoken announcement in the branch's language (the company's default, or the one
// the address asks for with ?lang=), one after another.
//
// The board (GET /live/v1/branches/{id}/board) is the truth; the event stream only
// says when to read it again and what to announce. After a network cut or a server
// restart the stream reconnects by itself and the board is read again, so the screen
// never needs a person to come back.

import {
  api,
  applyTexts,
  coalesced,
  deviceKey,
  h,
  languageChosen,
  locale,
  pathId,
  setLocale,
  showProblem,
  sleep,
  t,
} from "./common.js";
import { followStream } from "./sse.js";

const SHOWN = 8; // called tickets on the board
const branchId = pathId();
const key = deviceKey();
const link = document.getElementById("link");
const soundButton = document.getElementById("sound");
const base = `/live/v1/branches/${encodeURIComponent(branchId)}`;
let board = null;
let newest = null; // "ticketId@calledAt" of the highlighted row
const pending = []; // called events waiting for the board to name their counter

async function readBoard() {
  // Calls that arrived before this read began: the board read now names their counter.
  // Later ones wait for the next read (coalesced() runs one whenever asked meanwhile).
  const due = pending.splice(0);
  // Without ?locale the board is in the branch's language, and says which that is.
  const query = languageChosen() ? `?locale=${locale}` : "";
  try {
    board = await api(`${base}/board${query}`, { token: key });
  } catch (error) {
    pending.unshift(...due);
    throw error;
  }
  if (!languageChosen() && board.branch.locale !== locale) setLocale(board.branch.locale);
  render();
  for (const event of due) announceCall(event);
}

const refresh = coalesced(readBoard);

function render() {
  document.getElementById("branch-name").textContent = board.branch.name;
  const called = board.called.slice(0, SHOWN);
  const top = called[0] ? `${called[0].ticketId}@${called[0].calledAt}` : null;
  const fresh = top !== null && top !== newest;
  newest = top;
  document.getElementById("called").replaceChildren(
    ...called.map((ticket, index) =>
      h(
        "li",
        {
          class: index === 0 ? `newest${fresh ? " flash" : ""}` : null,
          dataset: { ticketId: ticket.ticketId },
        },
        h("span", { class: "number" }, ticket.number),
        h("span", { class: "counter" }, ticket.counterName ?? ""),
      ),
    ),
  );
  document.getElementById("nobody").hidden = called.length > 0;
  document.getElementById("waiting").replaceChildren(
    ...board.waiting.map((service) =>
      h(
        "li",
        {},
        h("span", { class: "service" }, service.serviceName),
        h("span", { class: "count" }, service.waiting),
      ),
    ),
  );
}

// --- announcements -------------------------------------------------------------------

const announcements = [];
let speaking = false;
let audio = null;

function audioContext() {
  if (!audio && window.AudioContext) audio = new AudioContext();
  return audio;
}

/** Two soft tones, made on the spot: no sound file to ship or fetch. */
async function chime() {
  const context = audioContext();
  if (!context) return;
  if (context.state === "suspended") {
    soundButton.hidden = false; // the browser wants a touch before it plays sound
    return;
  }
  const start = context.currentTime + 0.02;
  for (const [frequency, offset] of [
    [880, 0],
    [660, 0.32],
  ]) {
    const tone = context.createOscillator();
    const gain = context.createGain();
    tone.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.4, start + offset + 0.03);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.3);
    tone.connect(gain).connect(context.destination);
    tone.start(start + offset);
    tone.stop(start + offset + 0.32);
  }
  await sleep(700);
}

/** Speak `text`; resolves when it has been said (or could not be, within a bound). */
function speak(text, language) {
  if (!window.speechSynthesis) return sleep(1500);
  return new Promise((resolve) => {
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = language === "ar" ? "ar-SA" : "en-US";
    const voice = speechSynthesis
      .getVoices()
      .find((candidate) => candidate.lang.toLowerCase().startsWith(language));
    if (voice) utterance.voice = voice;
    utterance.rate = 0.9;
    // A browser without a voice for the language may never say it has finished.
    const bound = setTimeout(resolve, 2000 + text.length * 120);
    const done = () => {
      clearTimeout(bound);
      resolve();
    };
    utterance.onend = done;
    utterance.onerror = done;
    speechSynthesis.speak(utterance);
  });
}

/** Queue an announcement: each waits for the one before, none cuts another short. */
function announce(text, language) {
  announcements.push([text, language]);
  document.body.dataset.queued = String(announcements.length);
  if (!speaking) playAnnouncements();
}

async function playAnnouncements() {
  speaking = true;
  while (announcements.length) {
    const [text, language] = announcements[0];
    document.body.dataset.announcing = text;
    await chime();
    await speak(text, language);
    announcements.shift();
    document.body.dataset.queued = String(announcements.length);
    document.body.dataset.announced = String(Number(document.body.dataset.announced ?? 0) + 1);
  }
  delete document.body.dataset.announcing;
  speaking = false;
}

function announceCall(event) {
  const row = board?.called.find((ticket) => ticket.ticketId === event.ticketId);
  const counter = row?.counterName ?? "";
  // In the screen's language: the branch's, unless the address chose another (?lang=).
  announce(t("screen.display.announce", { number: event.number, counter }), locale);
}

soundButton.addEventListener("click", async () => {
  await audioContext()?.resume();
  soundButton.hidden = true;
});

// --- the stream ----------------------------------------------------------------------

function onEvent(message) {
  if (message.event !== "ticket") return;
  let event;
  try {
    event = JSON.parse(message.data);
  } catch {
    return;
  }
  if (event.status === "called") pending.push(event); // recalls too: called → called
  refresh();
}

function tick() {
  const options = { hour: "2-digit", minute: "2-digit" };
  if (board?.branch.timeZone) options.timeZone = board.branch.timeZone;
  document.getElementById("clock").textContent = new Date().toLocaleTimeString(
    locale === "ar" ? "ar" : "en-GB",
    options,
  );
}

async function start() {
  applyTexts();
  if (!key) {
    showProblem(t("screen.no_key"));
    return;
  }
  // The first board, however long the server takes to come back.
  for (let delay = 1000; ; delay = Math.min(delay * 2, 10000)) {
    try {
      await readBoard();
      showProblem(null);
      break;
    } catch (error) {
      showProblem(error.reason ?? t("screen.offline"));
      await sleep(delay);
    }
  }
  let up = true;
  followStream(`${base}/events`, {
    headers: () => ({ Authorization: `Bearer ${key}` }),
    lastEventId: board.lastEventId,
    onEvent,
    onUp: () => {
      link.hidden = true;
      showProblem(null);
      document.body.dataset.live = "up";
      if (!up) refresh(); // whatever the stream could not replay is on the board
      up = true;
    },
    onDown: (error) => {
      link.hidden = false;
      document.body.dataset.live = "down";
      up = false;
      // A revoked key or a branch gone: say so (the stream keeps trying, slowly).
      if (error?.status === 401 || error?.status === 404) showProblem(t("screen.no_key"));
    },
  });
  tick();
  setInterval(tick, 10000);
  // A slow safety net: the stream carries every change, this only heals surprises.
  setInterval(refresh, 60000);
}

start();
