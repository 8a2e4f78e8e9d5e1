import { events } from "@janhq/core";
import { marked } from "marked";
import { document } from "./doc.js";

// `N KB`: parses a KB-kilobyte document N times (after one warm-up); answers with the bytes,
// the output size and the milliseconds per parse.
events.on("assistant:marked", (e) => {
  const [n, kb] = e.messages[0].content.split(" ").map(Number);
  const doc = document(kb * 1024);
  let html = marked.parse(doc);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) html = marked.parse(doc);
  return JSON.stringify({ bytes: doc.length, html: html.length, ms: (performance.now() - t0) / n });
});
