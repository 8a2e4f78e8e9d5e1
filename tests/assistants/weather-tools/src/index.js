// Tools in assistant code: the model calls them inside the run, and the
// host feeds their results back; no handler is needed.
import { tools } from "@janhq/core";

tools.register(
  "get_weather",
  {
    description: "Get the current weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
  async ({ city }) => ({ temperature_c: city === "Paris" ? 14 : 20, sky: "rain" }),
);

tools.register(
  "get_stock_price",
  {
    description: "Get the price of a stock",
    parameters: { type: "object", properties: { ticker: { type: "string" } }, required: ["ticker"] },
  },
  () => {
    throw new Error("the stock service is down");
  },
);
