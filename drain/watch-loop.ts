// A list-then-watch loop that survives dropped connections: the base of "react to changes instead of polling".
// It re-watches from the last resourceVersion when a watch ends, and lists again when the server says that
// version is too old (410 Gone / ERROR event with code 410). Callers keep a slow safety re-check anyway,
// because a watch can also stall without ending.
// A watch the server refuses for good (401/403: the user may not watch; any other non-transient answer) is
// not retried: the loop reports it once, with the server's message, and stops watching (or polls by LIST).
import * as http from "node:http";
import * as https from "node:https";
import { createInterface } from "node:readline";
import { ApiException, type KubeConfig } from "@kubernetes/client-node";
import { type ApiFailure, describeFailure, isGone, isTransient, toApiFailure } from "./api-errors";
import type { Listing } from "./list-pods";
import { formatDuration } from "../kube-rules";
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
    /**
     * Called once when the server refuses the watch for good (e.g. 403: the user may not watch): "cannot watch
     * <what>: <server's message> (HTTP 403 Forbidden); <hint>; <fallback>". The loop stops watching. Default:
     * onProblem.
     */
    onWatchRefused?: (message: string, failure: ApiFailure) => void;
    /** After a refused watch, list every pollMs instead (onReset gets each listing). Default: no polling. */
    pollMs?: number;
    /** What keeps the caller informed without the watch, for the message (default from pollMs). */
    fallback?: string;
}

type WatchEnd = { kind: "closed" } | { kind: "gone" } | { kind: "error"; message: string } | { kind: "refused"; failure: ApiFailure };

export class WatchLoop<T extends { metadata?: { resourceVersion?: string } }> {
    private readonly controller = new AbortController();
    private current?: { abort(): void };
    private resourceVersion?: string;
    private started?: Promise<void>;
    /** Number of times a watch connection ended or failed and was re-established. */
    restarts = 0;

    constructor(
        private readonly kc: KubeConfig,
        private readonly o: WatchLoopOptions<T>,
    ) {
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
            if (end.kind === "refused") return this.withoutWatch(end.failure);
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

    /** The watch was refused for good: say so once, then poll by LIST if asked to, until stopped. */
    private async withoutWatch(failure: ApiFailure): Promise<void> {
        const fallback =
            this.o.fallback ??
            (this.o.pollMs ? `listing them every ${formatDuration(this.o.pollMs / 1000)} instead` : "continuing without it");
        const message = `cannot watch ${this.o.what}: ${describeFailure(failure)}; ${fallback}`;
        if (this.o.onWatchRefused) this.o.onWatchRefused(message, failure);
        else this.o.onProblem?.(message);
        if (!this.o.pollMs) return;
        while (!this.signal.aborted) {
            try {
                await sleep(this.o.pollMs, this.signal);
                await this.relist();
            } catch (err) {
                if (this.signal.aborted) return;
                this.o.onProblem?.(`listing ${this.o.what} failed (${describeFailure(toApiFailure(err))}); will retry`);
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
            openWatch(
                this.kc,
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
                (err: unknown) => {
                    if (!err) return finish({ kind: "closed" });
                    const f = toApiFailure(err);
                    finish(isGone(f) ? { kind: "gone" } : { kind: "error", message: describeFailure(f) });
                },
                this.signal,
            )
                .then((c) => {
                    this.current = c;
                    if (this.signal.aborted || ended) c.abort();
                })
                .catch((err) => {
                    // The server answered something else than 200: 410 lists again, transient trouble re-watches,
                    // anything else (401/403, 404...) will not get better by asking again.
                    const f = toApiFailure(err);
                    finish(
                        isGone(f)
                            ? { kind: "gone" }
                            : isTransient(f)
                              ? { kind: "error", message: describeFailure(f) }
                              : { kind: "refused", failure: f },
                    );
                });
        });
    }
}

/**
 * One watch request, made as client-node's Watch makes it (the kubeconfig's credentials, TLS and proxy via
 * applyToHTTPSOptions), except that a refusal keeps the server's answer: it rejects with an ApiException
 * {code, body, headers} whose body is the Status (client-node's Watch keeps only the status line, so a 403
 * could not say which permission is missing). Resolves once the server answered 200; then `onEvent` gets each
 * event and `onEnd` is called once (no argument: the server closed the watch).
 */
async function openWatch(
    kc: KubeConfig,
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (type: string, obj: unknown) => void,
    onEnd: (err?: unknown) => void,
    signal: AbortSignal,
): Promise<{ abort(): void }> {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("No currently active cluster");
    const url = new URL(cluster.server + path);
    url.searchParams.set("watch", "true");
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    const options: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(options);
    const controller = new AbortController();
    const handle = { abort: () => controller.abort() };
    return new Promise((resolve, reject) => {
        let answered = false;
        let ended = false;
        const end = (err?: unknown) => {
            if (ended) return;
            ended = true;
            controller.abort();
            onEnd(err);
        };
        const request = (url.protocol === "http:" ? http : https).request(
            url,
            { ...options, method: "GET", signal: AbortSignal.any([signal, controller.signal]) },
            (res) => {
                answered = true;
                if (res.statusCode !== 200) {
                    let body = "";
                    res.setEncoding("utf8");
                    res.on("data", (chunk: string) => {
                        if (body.length < 65_536) body += chunk;
                    });
                    const refuse = () =>
                        reject(
                            new ApiException(
                                res.statusCode ?? 0,
                                `watch refused: HTTP ${res.statusCode}`,
                                body,
                                res.headers as Record<string, string>,
                            ),
                        );
                    res.on("end", refuse);
                    res.on("error", refuse);
                    return;
                }
                resolve(handle);
                res.on("error", end);
                res.on("close", () => end());
                const lines = createInterface({ input: res, crlfDelay: Infinity });
                // readline re-emits the response's errors (e.g. "aborted" when we close the watch): never unhandled.
                lines.on("error", end);
                lines.on("line", (line) => {
                    if (ended) return;
                    let event: any;
                    try {
                        event = JSON.parse(line);
                    } catch {
                        return; // not a JSON line: ignored, as client-node does
                    }
                    onEvent(event?.type, event?.object);
                });
            },
        );
        request.on("socket", (socket) => socket.setKeepAlive?.(true, 30_000));
        request.on("error", (err) => (answered ? end(err) : reject(err)));
        request.end();
    });
}
