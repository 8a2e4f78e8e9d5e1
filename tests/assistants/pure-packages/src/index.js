import { events, assistant } from "@janhq/core";
import { z } from "zod";
import { addDays, format, formatDistanceStrict } from "date-fns";
import TurndownService from "turndown";

// Answers with what each package computed, as JSON.
events.on(`assistant:${assistant.id}`, () => {
  const Weather = z.object({ city: z.string().min(1), unit: z.enum(["c", "f"]), days: z.array(z.number().int()).max(3) });
  const good = Weather.safeParse({ city: "Paris", unit: "c", days: [1, 2] });
  const bad = Weather.safeParse({ city: "", unit: "k", days: [1.5] });
  const day = new Date(Date.UTC(2026, 10, 29, 12));
  const turndown = new TurndownService({ headingStyle: "atx" });
  return JSON.stringify({
    zod: { ok: good.success, issues: bad.success ? [] : bad.error.issues.map((i) => i.path.join(".")) },
    dateFns: { next: format(addDays(day, 3), "yyyy-MM-dd"), distance: formatDistanceStrict(day, addDays(day, 3)) },
    turndown: turndown.turndown("<h1>Hello</h1><p>Some <strong>bold</strong> and <a href=\"https://jan.ai\">a link</a>.</p>"),
  });
});
