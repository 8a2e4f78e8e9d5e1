// node:worker_threads: an assistant is one main thread. What describes it
// works (isMainThread, MessageChannel); starting a Worker does not.
"use strict";

class Worker {
  constructor() {
    throw new Error("node:worker_threads is not available in jan assistants (new Worker()): assistants cannot start threads");
  }
}

module.exports = {
  isMainThread: true,
  parentPort: null,
  workerData: null,
  threadId: 0,
  resourceLimits: {},
  SHARE_ENV: Symbol("nodejs.worker_threads.SHARE_ENV"),
  Worker,
  MessageChannel: globalThis.MessageChannel,
  MessagePort: globalThis.MessagePort,
  BroadcastChannel: globalThis.BroadcastChannel,
  markAsUncloneable: () => {},
  markAsUntransferable: () => {},
  isMarkedAsUntransferable: () => false,
  moveMessagePortToContext: (port) => port,
  receiveMessageOnPort: () => undefined,
  getEnvironmentData: () => undefined,
  setEnvironmentData: () => {},
};
