// Tool calls in runs: the first turn asks the client to run `get_weather`;
// once the client submits the output, the handler is asked again with the
// call and its output at the end of `messages`, and answers from them.
import { assistant, events } from "@janhq/core";
import type { Reply, RequestEvent } from "@janhq/core";

events.on(`assistant:${assistant.id}`, (event: RequestEvent): Reply => {
  const last = event.messages[event.messages.length - 1];
  if (last?.role === "tool") {
    const call = event.messages
      .flatMap((m) => m.tool_calls ?? [])
      .find((c) => c.id === last.tool_call_id);
    const city = call ? JSON.parse(call.function.arguments).city : "there";
    return `The weather in ${city}: ${last.content}`;
  }
  const offered = event.tools.some((t) => t.function?.name === "get_weather");
  if (!offered) return "I have no weather tool.";
  const city = /in ([A-Z][\w-]*)/.exec(last?.content ?? "")?.[1] ?? "Paris";
  return { tool_calls: [{ name: "get_weather", arguments: { city } }] };
});
