// Shared by every screen: the page's texts in both languages, the language switch,
// calls to Taboor's JSON APIs, and the device key kept from the address's fragment.

const TEXTS = JSON.parse(document.getElementById("texts").textContent);
const LANGUAGE_NAMES = { en: "English", ar: "العربية" };

export let locale = document.documentElement.lang === "ar" ? "ar" : "en";

/** The text of `key` in the current language (or `language`), `{name}` placeholders filled. */
export function t(key, params = {}, language = locale) {
  const text = TEXTS[language]?.[key] ?? TEXTS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Fill every `data-t` element with its text in the current language. */
export function applyTexts(root = document) {
  for (const element of root.querySelectorAll("[data-t]")) {
    element.textContent = t(element.dataset.t);
  }
}

/** Switch the page's language: `<html lang dir>`, every `data-t` text, then `onChange`. */
export function setLocale(next, onChange) {
  locale = next === "ar" ? "ar" : "en";
  document.documentElement.lang = locale;
  document.documentElement.dir = locale === "ar" ? "rtl" : "ltr";
  if (document.body.dataset.title) document.title = t(document.body.dataset.title);
  applyTexts();
  if (onChange) onChange(locale);
}

/** Was the language asked for in the address (`?lang=`)? Then it wins over stored choices. */
export function languageChosen() {
  return document.documentElement.dataset.chosen === "true";
}

/** A button that toggles English/Arabic, remembered per screen in localStorage. */
export function languageSwitch(button, screen, onChange) {
  const storageKey = `taboor.${screen}.lang`;
  const label = () => {
    const other = locale === "ar" ? "en" : "ar";
    button.textContent = LANGUAGE_NAMES[other];
    button.lang = other;
  };
  if (!languageChosen() && localStorage.getItem(storageKey)) {
    setLocale(localStorage.getItem(storageKey));
  }
  label();
  button.addEventListener("click", () => {
    setLocale(locale === "ar" ? "en" : "ar", onChange);
    localStorage.setItem(storageKey, locale);
    label();
  });
}

/** Build an element: `h("li", {class: "x", onclick: f}, "text", child)`. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** An API refusal: the HTTP status and Taboor's error body (`message`, `error`, `code`). */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body ?? {};
  }

  /** The most useful line for a person: the field's reason, else the detail, else the message. */
  get reason() {
    const error = this.body.error;
    if (error && typeof error === "object") return Object.values(error)[0] ?? this.message;
    return error || this.message;
  }
}

/** Call a JSON endpoint as `token` in the current language; the `data` of the answer. */
export async function api(path, { method = "GET", token, body, signal } = {}) {
  const headers = { Accept: "application/json", "X-Locale": locale };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    signal,
  });
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer?.data;
}

/**
 * The company's public key of a device screen. It arrives once in the fragment
 * (`#key=pk_…`, never sent to the server), is kept in localStorage so the screen
 * comes back by itself after a restart, and is taken out of the address bar.
 */
export function deviceKey() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const given = fragment.get("key");
  if (given) {
    localStorage.setItem("taboor.key", given);
    history.replaceState(null, "", location.pathname + location.search);
    return given;
  }
  return localStorage.getItem("taboor.key");
}

/** The last segment of the address: the branch or ticket id of the page. */
export function pathId() {
  return decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() ?? "");
}

/** Show `text` in the page's problem line (none: hide it). */
export function showProblem(text) {
  const line = document.getElementById("problem");
  if (!line) return;
  line.textContent = text ?? "";
  line.hidden = !text;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** "12 min" in the current language. */
export function minutes(value) {
  return value === null || value === undefined ? "–" : t("screen.minutes", { minutes: value });
}

/** Run `task` now, and once more after it if asked again meanwhile (never twice at once). */
export function coalesced(task) {
  let running = null;
  let again = false;
  const run = async () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await task();
        } catch (error) {
          console.warn(error);
        }
      } while (again);
    })();
    try {
      await running;
    } finally {
      running = null;
    }
  };
  return run;
}
