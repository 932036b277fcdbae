/** The smoke test's pieces: named checks with a summary, an API client over the envelope, a socket reader. */

let passed = 0;
let failed = 0;

/** Runs one named check; a thrown error fails it (and the run), the returned text is shown beside it. */
export async function check(name: string, work: () => Promise<unknown>): Promise<boolean> {
  const started = Date.now();
  try {
    const note = await work();
    passed++;
    console.log(`  ✓ ${name} (${Date.now() - started} ms)${typeof note === "string" && note ? ` — ${note}` : ""}`);
    return true;
  } catch (err) {
    failed++;
    console.log(`  ✗ ${name} (${Date.now() - started} ms): ${err instanceof Error ? err.message : err}`);
    return false;
  }
}

/** Prints the tally; true when nothing failed. */
export function summary(): boolean {
  console.log(`smoke: ${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0;
}

export interface Reply {
  status: number;
  data: unknown;
  error: { code: string; message: string } | undefined;
  expect(status: number): void;
  expectError(status: number, code: string): void;
}

export interface SocketMessage {
  event: string;
  data: Record<string, unknown>;
  seq: number | null;
}

export interface Socket {
  /** The first message (already received or still to come) that `match` accepts. */
  next(match: (m: SocketMessage) => boolean, timeoutMs: number): Promise<SocketMessage>;
  close(): void;
}

export interface Api {
  base: string;
  raw(path: string, headers?: Record<string, string>): Promise<Response>;
  get(path: string, headers?: Record<string, string>): Promise<Reply>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Reply>;
  socket(owner: string): Promise<Socket>;
}

/** A client for the deployment at `base` (no trailing slash). */
export function client(base: string): Api {
  const raw = (path: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(30_000) });
  const reply = async (method: string, path: string, res: Response): Promise<Reply> => {
    const text = await res.text();
    let body: { success?: boolean; data?: unknown; error?: { code: string; message: string } } = {};
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`${method} ${path} answered ${res.status} with a body that is not JSON`);
    }
    const describe = () => `${method} ${path} answered ${res.status} ${JSON.stringify(body.error ?? body.data)}`;
    return {
      status: res.status,
      data: body.data,
      error: body.error,
      expect: (status) => {
        if (res.status !== status || body.success !== true) throw new Error(`${describe()} (expected ${status})`);
      },
      expectError: (status, code) => {
        if (res.status !== status || body.error?.code !== code)
          throw new Error(`${describe()} (expected ${status} ${code})`);
      },
    };
  };
  return {
    base,
    raw: (path, headers = {}) => raw(path, { headers }),
    get: async (path, headers = {}) => reply("GET", path, await raw(path, { headers })),
    post: async (path, body, headers = {}) =>
      reply(
        "POST",
        path,
        await raw(path, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify(body),
        }),
      ),
    socket: (owner) => openSocket(`${base.replace(/^http/, "ws")}/ws/${owner}`),
  };
}

/** Opens a WebSocket (Node 22's global client) and buffers its messages for `next`. */
function openSocket(url: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const messages: SocketMessage[] = [];
    const waiters = new Set<() => void>();
    const timer = setTimeout(() => reject(new Error(`WebSocket ${url} did not open in 10 s`)), 10_000);
    ws.addEventListener("message", (e) => {
      try {
        messages.push(JSON.parse(String(e.data)) as SocketMessage);
      } catch {
        return;
      }
      for (const wake of waiters) wake();
    });
    ws.addEventListener("error", () => reject(new Error(`WebSocket ${url} failed`)));
    ws.addEventListener("close", (e) => {
      clearTimeout(timer);
      reject(new Error(`WebSocket closed: ${e.code} ${e.reason}`));
      for (const wake of waiters) wake();
    });
    ws.addEventListener("open", () => {
      clearTimeout(timer);
      resolve({
        next: (match, timeoutMs) =>
          new Promise((found, fail) => {
            const look = () => {
              const hit = messages.find(match);
              if (hit) {
                waiters.delete(look);
                clearTimeout(deadline);
                found(hit);
              } else if (ws.readyState === WebSocket.CLOSED) {
                waiters.delete(look);
                clearTimeout(deadline);
                fail(
                  new Error(
                    `socket closed before the expected message (got ${messages.map((m) => m.event).join(", ")})`,
                  ),
                );
              }
            };
            const deadline = setTimeout(() => {
              waiters.delete(look);
              fail(
                new Error(
                  `no matching message within ${timeoutMs} ms (got ${messages.map((m) => m.event).join(", ") || "none"})`,
                ),
              );
            }, timeoutMs);
            waiters.add(look);
            look();
          }),
        close: () => ws.close(1000, "smoke test done"),
      });
    });
  });
}
