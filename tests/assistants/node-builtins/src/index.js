import { events, assistant } from "@janhq/core";
import { checks } from "./checks.js";

events.on(`assistant:${assistant.id}`, async () => JSON.stringify(await checks(new URL("../scratch/", import.meta.url))));
