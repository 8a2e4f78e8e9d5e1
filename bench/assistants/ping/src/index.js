import { events } from "@janhq/core";

// Round trips with the pong assistant over the bus; answers with the count
// and the elapsed milliseconds.
let waiting = null;
events.on("bench.pong", (p) => { const w = waiting; waiting = null; w(p); });
const roundTrip = (i) => new Promise((resolve) => { waiting = resolve; events.emit("bench.ping", { i }); });

events.on("assistant:ping", async (e) => {
  const n = Number(e.messages[0].content);
  for (let i = 0; i < 100; i++) await roundTrip(i); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await roundTrip(i);
  return JSON.stringify({ n, ms: performance.now() - t0 });
});
