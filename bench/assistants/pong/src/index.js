import { events } from "@janhq/core";
events.on("bench.ping", (p) => events.emit("bench.pong", p));
