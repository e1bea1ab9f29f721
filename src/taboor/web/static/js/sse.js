// Server-sent events over fetch(): EventSource cannot send an Authorization header,
// and Taboor's streams need one. Reconnects by itself with backoff, resuming from the
// last event id, and treats a silent connection (no data, not even a ping) as dead.

import { sleep } from "./common.js";

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 8000;
const SILENCE_MS = 45000; // the server pings well within this

/**
 * Follow the stream at `url`. `headers()` gives the request headers (the key or token);
 * `onEvent({id, event, data})` gets each message; `onUp()` runs each time a connection
 * is established, `onDown(error)` each time one fails or ends (`error.status` when the
 * server refused it). Returns `{close()}`.
 */
export function followStream(url, { headers, lastEventId = null, onEvent, onUp, onDown }) {
  let closed = false;
  let controller = null;
  let lastId = lastEventId;

  async function connectOnce() {
    controller = new AbortController();
    const requestHeaders = { Accept: "text/event-stream", ...headers() };
    if (lastId !== null && lastId !== undefined && lastId !== "") {
      requestHeaders["Last-Event-ID"] = String(lastId);
    }
    let silence = setTimeout(() => controller.abort(), SILENCE_MS);
    try {
      const response = await fetch(url, {
        headers: requestHeaders,
        cache: "no-store",
        signal: controller.signal,
      });
      if (!response.ok || !response.body) {
        const refused = new Error(`stream answered ${response.status}`);
        refused.status = response.status; // 401: the key or session is no longer valid
        throw refused;
      }
      onUp?.();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      let message = { id: null, event: "message", data: [] };
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error("stream ended");
        clearTimeout(silence);
        silence = setTimeout(() => controller.abort(), SILENCE_MS);
        buffer += value;
        const lines = buffer.split(/\r\n|\r|\n/);
        buffer = lines.pop();
        for (const line of lines) {
          if (line === "") {
            if (message.data.length) {
              if (message.id !== null) lastId = message.id;
              const data = message.data.join("\n");
              onEvent({ id: message.id ?? lastId, event: message.event, data });
            }
            message = { id: null, event: "message", data: [] };
            continue;
          }
          if (line.startsWith(":")) continue; // a comment: the server's ping
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          let text = colon < 0 ? "" : line.slice(colon + 1);
          if (text.startsWith(" ")) text = text.slice(1);
          if (field === "data") message.data.push(text);
          else if (field === "event") message.event = text;
          else if (field === "id") message.id = text;
        }
      }
    } finally {
      clearTimeout(silence);
    }
  }

  (async () => {
    let delay = FIRST_DELAY_MS;
    while (!closed) {
      const started = Date.now();
      try {
        await connectOnce();
      } catch (error) {
        if (closed) return;
        onDown?.(error);
      }
      // A connection that lived a while was healthy: start the backoff over.
      if (Date.now() - started > 10000) delay = FIRST_DELAY_MS;
      await sleep(delay + Math.random() * delay * 0.3);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  })();

  return {
    close() {
      closed = true;
      controller?.abort();
    },
    get lastEventId() {
      return lastId;
    },
  };
}
