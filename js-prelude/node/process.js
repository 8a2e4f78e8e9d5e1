// node:process: the global `process` object.
"use strict";

const p = globalThis.process;

module.exports = p;
module.exports.env = p.env;
module.exports.argv = p.argv;
module.exports.platform = p.platform;
module.exports.version = p.version;
module.exports.versions = p.versions;
module.exports.nextTick = p.nextTick;
module.exports.cwd = p.cwd;
module.exports.exit = p.exit;
module.exports.hrtime = p.hrtime;
module.exports.memoryUsage = p.memoryUsage;
module.exports.emitWarning = p.emitWarning;
module.exports.on = p.on;
module.exports.stdout = p.stdout;
module.exports.stderr = p.stderr;
