// node:timers/promises
"use strict";

const { promises } = require("timers");

module.exports = {
  setTimeout: promises.setTimeout,
  setImmediate: promises.setImmediate,
  setInterval: promises.setInterval,
  scheduler: promises.scheduler,
};
