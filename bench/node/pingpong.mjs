// The peer for event round trips: the main thread and a worker_threads
// worker ping-pong with postMessage, the same shape as the ping/pong
// assistants (each message a small JSON-like object).
import { Worker, isMainThread, parentPort } from "node:worker_threads";

if (isMainThread) {
  const n = Number(process.argv[2] ?? 20000);
  const worker = new Worker(new URL(import.meta.url));
  let waiting = null;
  worker.on("message", (p) => { const w = waiting; waiting = null; w(p); });
  const roundTrip = (i) => new Promise((resolve) => { waiting = resolve; worker.postMessage({ i }); });
  for (let i = 0; i < 100; i++) await roundTrip(i);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await roundTrip(i);
  const ms = performance.now() - t0;
  console.log(JSON.stringify({ n, ms }));
  await worker.terminate();
} else {
  parentPort.on("message", (p) => parentPort.postMessage(p));
}
