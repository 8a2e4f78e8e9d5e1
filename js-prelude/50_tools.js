// `tools` of @janhq/core: functions an assistant offers to its model. The
// spec goes to the host (which offers it on the assistant's turns and lists
// it in GET /v1/assistants/{id}); the function stays here, and the host
// calls it through `runTool` when the model calls the tool.
const ops = globalThis.Deno.core.ops;

const registry = new Map();

export const tools = Object.freeze({
  /**
   * Registers `fn(args, ctx)` as tool `name`. `spec`: `{ description,
   * parameters }` (a JSON schema of the arguments object). Returns a
   * function that unregisters it.
   */
  register(name, spec, fn) {
    if (typeof spec === "function" && fn === undefined) {
      fn = spec;
      spec = {};
    }
    if (typeof fn !== "function") {
      throw new TypeError("tools.register(name, { description, parameters }, fn): fn must be a function");
    }
    name = String(name);
    spec = spec ?? {};
    ops.op_jan_tools_register(name, { description: spec.description ?? null, parameters: spec.parameters ?? null });
    registry.set(name, fn);
    return () => {
      if (registry.get(name) === fn) {
        registry.delete(name);
        ops.op_jan_tools_unregister(name);
      }
    };
  },
  /** The names of the registered tools. */
  list() {
    return [...registry.keys()];
  },
});

function errorText(e) {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Runs a call from the host and answers request `p.id` with the output: the
 * function's result (a string as is, anything else as JSON), or
 * `{"error": "..."}` when it throws: the model reads the failure, the run
 * goes on.
 */
export async function runTool(p) {
  let output;
  try {
    const fn = registry.get(p.name);
    if (!fn) throw new Error(`no tool named '${p.name}'`);
    let args;
    try {
      args = p.arguments ? JSON.parse(p.arguments) : {};
    } catch {
      throw new Error("the arguments are not valid JSON: " + p.arguments);
    }
    const result = await fn(args, { call_id: p.call_id, thread_id: p.thread_id ?? null });
    output = typeof result === "string" ? result : JSON.stringify(result ?? null) ?? "null";
  } catch (e) {
    console.error(e);
    output = JSON.stringify({ error: errorText(e) });
  }
  ops.op_jan_reply(p.id, "done", output);
}
