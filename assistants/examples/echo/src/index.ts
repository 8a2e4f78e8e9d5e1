import { events, assistant } from "@janhq/core";
import type { RequestEvent } from "@janhq/core";

events.on(`assistant:${assistant.id}`, (event: RequestEvent): string => {
  const last = event.messages[event.messages.length - 1];
  return `echo: ${last?.content ?? ""}`;
});
