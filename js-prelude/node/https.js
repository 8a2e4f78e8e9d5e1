// node:https: the node:http client over TLS (fetch's rustls).
"use strict";

const http = require("http");

class Agent extends http.Agent {
  constructor(options) {
    super(options);
    this.defaultPort = 443;
    this.protocol = "https:";
  }
}

const https = http._client("https:");

module.exports = {
  request: https.request,
  get: https.get,
  Agent,
  globalAgent: new Agent(),
  createServer: http.createServer,
  Server: http.Server,
};
