// A list-then-watch loop that survives dropped connections: the base of "react to changes instead of polling".
// It re-watches from the last resourceVersion when a watch ends, and lists again when the server says that
// version is too old (410 Gone / ERROR event with code 410). Callers keep a slow safety re-check anyway,
// because a watch can also stall without ending.
import { Watch, type KubeConfig } from "@kubernetes/client-node";
import { toApiFailure, describeFailure } from "./api-errors";
import type { Listing } from "./list-pods";
import { Backoff, sleep } from "./retry";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface WatchLoopOptions<T> {
    /** For messages, e.g. `pods on node "worker1"`. */
    what: string;
    /** Collection path, e.g. /api/v1/pods. */
    path: string;
    query?: Record<string, string | number | boolean | undefined>;
    /** Full list; used at start (unless initialResourceVersion is given) and after a 410. */
    list: (signal: AbortSignal) => Promise<Listing<T>>;
    /** Full state after a list. */
    onReset?: (items: T[]) => void;
    onEvent: (type: WatchEventType, obj: T) => void;
    /** Start watching from here and skip the first list (the caller just listed). */
    initialResourceVersion?: string;
    /** Reports watch trouble (already being retried). */
    onProblem?: (message: string) => void;
}

type WatchEnd = { kind: "closed" } | { kind: "gone" } | { kind: "error"; message: string };

export class WatchLoop<T extends { metadata?: { resourceVersion?: string } }> {
    private readonly controller = new AbortController();
    private current?: AbortController;
    private resourceVersion?: string;
    private started?: Promise<void>;
    /** Number of times a watch connection ended or failed and was re-established. */
    restarts = 0;

    constructor(private readonly kc: KubeConfig, private readonly o: WatchLoopOptions<T>) {
        this.resourceVersion = o.initialResourceVersion;
    }

    get signal(): AbortSignal {
        return this.controller.signal;
    }

    /** Starts the loop; resolves once the initial list (if any) is done. */
    start(): Promise<void> {
        if (!this.started) {
            this.started = (async () => {
                if (!this.resourceVersion) await this.relist();
                void this.run();
            })();
        }
        return this.started;
    }

    stop(): void {
        this.controller.abort();
        this.current?.abort();
    }

    private async relist(): Promise<void> {
        const listing = await this.o.list(this.signal);
        this.resourceVersion = listing.resourceVersion;
        this.o.onReset?.(listing.items);
    }

    private async run(): Promise<void> {
        const backoff = new Backoff({ initialMs: 200, maxMs: 5000 });
        while (!this.signal.aborted) {
            const startedAt = Date.now();
            const end = await this.watchOnce();
            if (this.signal.aborted) return;
            this.restarts++;
            try {
                if (end.kind === "gone") {
                    await this.relist();
                    backoff.reset();
                } else if (end.kind === "error") {
                    this.o.onProblem?.(`watch of ${this.o.what} failed (${end.message}); re-establishing`);
                    await sleep(backoff.next(), this.signal);
                    // After repeated failures the version may be stale; a fresh list is cheap insurance.
                    if (backoff.attempts >= 3) await this.relist();
                } else if (Date.now() - startedAt < 1000) {
                    // A watch the server closes at once (or an injected drop) must not become a busy loop.
                    await sleep(backoff.next(), this.signal);
                } else {
                    backoff.reset();
                }
            } catch (err) {
                if (this.signal.aborted) return;
                this.o.onProblem?.(`re-listing ${this.o.what} failed (${describeFailure(toApiFailure(err))}); will retry`);
                await sleep(backoff.next(), this.signal).catch(() => undefined);
            }
        }
    }

    private watchOnce(): Promise<WatchEnd> {
        return new Promise<WatchEnd>((resolve) => {
            let ended = false;
            let gone = false;
            const finish = (end: WatchEnd) => {
                if (ended) return;
                ended = true;
                this.signal.removeEventListener("abort", onAbort);
                resolve(end);
            };
            const onAbort = () => {
                this.current?.abort();
                finish({ kind: "closed" });
            };
            this.signal.addEventListener("abort", onAbort, { once: true });
            const query = {
                ...this.o.query,
                allowWatchBookmarks: true,
                // Let the server end the watch now and then (kubectl uses 5-10 min); we simply re-watch.
                timeoutSeconds: 240 + Math.floor(Math.random() * 60),
                resourceVersion: this.resourceVersion,
            };
            new Watch(this.kc)
                .watch(
                    this.o.path,
                    query,
                    (type: string, obj: any) => {
                        if (ended) return;
                        if (type === "ERROR") {
                            gone = obj?.code === 410 || obj?.reason === "Expired" || obj?.reason === "Gone";
                            this.current?.abort();
                            finish(gone ? { kind: "gone" } : { kind: "error", message: String(obj?.message ?? "error event") });
                            return;
                        }
                        const rv = obj?.metadata?.resourceVersion;
                        if (rv) this.resourceVersion = rv;
                        if (type === "BOOKMARK") return;
                        if (type === "ADDED" || type === "MODIFIED" || type === "DELETED") {
                            try {
                                this.o.onEvent(type, obj as T);
                            } catch {
                                // a listener bug must not kill the watch
                            }
                        }
                    },
                    (err: any) => {
                        if (!err) return finish({ kind: "closed" });
                        const f = toApiFailure(err);
                        if (f.code === 410) return finish({ kind: "gone" });
                        finish({ kind: "error", message: describeFailure(f) });
                    },
                )
                .then((c) => {
                    this.current = c;
                    if (this.signal.aborted || ended) c.abort();
                })
                .catch((err) => finish({ kind: "error", message: describeFailure(toApiFailure(err)) }));
        });
    }
}
