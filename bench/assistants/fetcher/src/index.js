import { events } from "@janhq/core";

// `PORT N`: N sequential GETs of http://127.0.0.1:PORT/, each body read as
// JSON; answers with the count and the elapsed milliseconds.
events.on("assistant:fetcher", async (e) => {
  const [port, n] = e.messages[0].content.split(" ").map(Number);
  const url = `http://127.0.0.1:${port}/`;
  const get = async () => (await (await fetch(url)).json()).hello;
  for (let i = 0; i < 100; i++) await get(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await get();
  return JSON.stringify({ n, ms: performance.now() - t0 });
});
