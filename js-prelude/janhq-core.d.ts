// Types for the built-in module `@janhq/core`. `jan new` copies this file into
// new assistants so editors complete the API.
declare module "@janhq/core" {
  /** A chat message. */
  export interface Message {
    role: "system" | "user" | "assistant" | "tool";
    content: string;
    /** On an assistant turn that called tools (a run resumed after outputs). */
    tool_calls?: ToolCall[];
    /** On a `tool` message: the call this output answers. */
    tool_call_id?: string;
  }

  /** A function the assistant asks the caller to run (OpenAI's shape). */
  export interface ToolCall {
    id: string;
    type: "function";
    function: { name: string; arguments: string };
  }

  /** A tool the caller offers (OpenAI's `tools` entries). */
  export interface Tool {
    type: string;
    function?: { name: string; description?: string; parameters?: unknown };
  }

  /** A user turn, delivered on `assistant:<id>`. */
  export interface RequestEvent {
    id: string;
    type: "message";
    thread_id: string | null;
    messages: Message[];
    instructions: string | null;
    model: string | null;
    /** The run's tools (the assistant's `tools`). */
    tools: Tool[];
  }

  /**
   * What a handler may return (or emit on its own topic) as the answer.
   * `tool_calls` puts an API run in `requires_action` until the client
   * submits the outputs; the handler is then asked again with the calls and
   * their outputs at the end of `messages`. Calls may be `{ name, arguments }`
   * with arguments as an object; ids are made up when missing.
   */
  export type Reply =
    | string
    | { content: string }
    | { content?: string; tool_calls: Array<Partial<ToolCall> | { name: string; arguments?: unknown }> }
    | AsyncIterable<string>;

  export type Handler = (payload: any, meta: { topic: string; source: string }) => unknown;

  export const events: {
    /** Subscribes; a trailing `*` matches a prefix. Returns an unsubscribe function. */
    on(topic: string, handler: Handler): () => void;
    /** The next event only; without a handler, a Promise of its payload. */
    once(topic: string): Promise<any>;
    once(topic: string, handler: Handler): () => void;
    off(topic: string, handler?: Handler): void;
    /** Publishes a JSON payload to every other subscriber. */
    emit(topic: string, payload?: unknown): void;
    /**
     * Asks another assistant (`assistant:<id>`): a user turn, or messages.
     * Resolves to its answer's text; rejects after `timeout` ms (60 s).
     */
    request(
      topic: string,
      payload: string | { messages: Message[]; model?: string; instructions?: string },
      options?: { timeout?: number },
    ): Promise<string>;
  };

  export interface ChatRequest {
    messages: Message[];
    temperature?: number;
    top_p?: number;
    top_k?: number;
    max_tokens?: number;
    stop?: string | string[];
    seed?: number;
    [key: string]: unknown;
  }

  export interface ChatResponse {
    id: string;
    object: "chat.completion";
    model: string;
    choices: { index: number; message: Message; finish_reason: string }[];
    usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  }

  export interface Model {
    readonly id: string;
    readonly name: string;
    readonly descriptor: Record<string, unknown>;
    /** Runs the event's messages with the assistant's instructions. */
    process(event: RequestEvent): Promise<string>;
    chat(request: ChatRequest): Promise<ChatResponse>;
    /** Text deltas; breaking out of the loop cancels generation. */
    stream(request: ChatRequest): AsyncIterable<string>;
    embed(texts: string | string[]): Promise<number[][]>;
  }

  export const models: Model[] & {
    get(id: string): Model | undefined;
    list(): Model[];
  };

  /**
   * Functions this assistant offers to its model. The model may call them
   * on the assistant's turns (runs, `jan run`, chat through the default
   * answer); the host runs them and feeds the result back to the model.
   * A thrown error becomes the output `{"error": "..."}`.
   */
  export const tools: {
    register(
      name: string,
      spec: { description?: string; parameters?: Record<string, unknown> },
      fn: (args: any, ctx: { call_id: string; thread_id: string | null }) => unknown,
    ): () => void;
    list(): string[];
  };

  /** This assistant's assistant.json, defaults filled in. */
  export const assistant: {
    id: string;
    name: string;
    instructions: string | null;
    models: "*" | (string | { id: string; parameters?: Record<string, unknown> })[];
    events: "*" | string[];
    metadata: Record<string, unknown>;
    [key: string]: unknown;
  };
}
