// Runs the node-builtins test assistant's checks under node itself and
// prints the answer: tests/api compares it with the assistant's.
import { checks } from "../../assistants/node-builtins/src/checks.js";
import { pathToFileURL } from "node:url";

const scratch = pathToFileURL(process.argv[2] + "/");
console.log(JSON.stringify(await checks(scratch)));
