// node:stream/promises
"use strict";

const { promises } = require("stream");

module.exports = { pipeline: promises.pipeline, finished: promises.finished };
