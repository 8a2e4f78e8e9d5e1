// The peer of bench/assistants/marked: the same package, document and loop
// under node. Usage: node bench/node/marked.mjs N KB
import { marked } from "../assistants/marked/node_modules/marked/lib/marked.esm.js";
import { document } from "../assistants/marked/src/doc.js";
const [n, kb] = process.argv.slice(2).map(Number);
const doc = document(kb * 1024);
let html = marked.parse(doc);
const t0 = performance.now();
for (let i = 0; i < n; i++) html = marked.parse(doc);
console.log(JSON.stringify({ bytes: doc.length, html: html.length, ms: (performance.now() - t0) / n }));
