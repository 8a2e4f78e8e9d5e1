// The peer of bench/assistants/fetcher: the same sequential fetches with
// Node's own fetch (undici). Usage: node fetch.mjs PORT N
const [port, n] = process.argv.slice(2).map(Number);
const url = `http://127.0.0.1:${port}/`;
const get = async () => (await (await fetch(url)).json()).hello;
for (let i = 0; i < 100; i++) await get(); // warm-up
const t0 = performance.now();
for (let i = 0; i < n; i++) await get();
console.log(JSON.stringify({ n, ms: performance.now() - t0 }));
