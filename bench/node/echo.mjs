// The peer for start-up: what `jan run assistants/examples/echo --prompt x`
// does, as a plain Node script: load a module, answer one message, print it.
const handlers = new Map();
const events = { on: (t, f) => handlers.set(t, f) };
events.on("assistant:echo", (event) => `echo: ${event.messages.at(-1).content}`);
const prompt = process.argv[process.argv.indexOf("--prompt") + 1];
const reply = await handlers.get("assistant:echo")({ messages: [{ role: "user", content: prompt }] });
console.log(reply);
