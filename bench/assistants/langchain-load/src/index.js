import { events, assistant } from "@janhq/core";
import { build } from "./chain.js";

events.on(`assistant:${assistant.id}`, () => build());
