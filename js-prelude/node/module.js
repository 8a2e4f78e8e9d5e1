// node:module: createRequire and the list of built-ins.
"use strict";

const { fileURLToPath } = require("url");

function createRequire(from) {
  const file = typeof from === "string" && from.startsWith("file:") ? fileURLToPath(from) : from instanceof URL ? fileURLToPath(from) : String(from);
  return jan.createRequire(file);
}

module.exports = {
  createRequire,
  builtinModules: jan.builtinModules,
  isBuiltin: (s) => jan.builtinModules.includes(String(s).replace(/^node:/, "")),
  register: () => {
    throw new Error("module.register is not available in jan assistants");
  },
};
