// Deadlines, abortable sleeps and capped exponential backoff with jitter.
// kubectl retries blindly every 5 s and lets client-go retry 429/5xx carrying Retry-After up to 10 times;
// client-node retries nothing, so every call that can fail transiently goes through withRetry.
import { setMaxListeners } from "node:events";
import { ApiFailure, KubeApiError, describeFailure, isTransient, toApiFailure } from "./api-errors";

/** Thrown when a Deadline passes or its parent signal aborts. */
export class DeadlineExceeded extends Error {
    /**
     * @param lastError the last transient failure of the call that was being retried when time ran out
     *   (describeFailure text), so the timeout can say what it was waiting out.
     */
    constructor(
        public readonly cause: "timeout" | "cancelled",
        message: string,
        public readonly lastError?: string,
    ) {
        super(message);
        this.name = "DeadlineExceeded";
    }
}

/** The signal's reason; a DeadlineExceeded gets the last transient failure seen (the shared reason is not changed). */
function abortReason(signal: AbortSignal, last: ApiFailure | undefined): unknown {
    const reason = signal.reason;
    if (!last || !(reason instanceof DeadlineExceeded)) return reason;
    return new DeadlineExceeded(reason.cause, reason.message, describeFailure(last));
}

/**
 * One time limit plus an optional caller AbortSignal, combined into one `signal`.
 * timeoutSeconds 0/undefined = no limit (kubectl's --timeout=0).
 */
export class Deadline {
    readonly signal: AbortSignal;
    readonly at?: number;
    private readonly controller = new AbortController();
    private timer?: NodeJS.Timeout;
    private causeOf: "timeout" | "cancelled" | undefined;

    constructor(timeoutSeconds?: number, parent?: AbortSignal) {
        this.signal = this.controller.signal;
        // Every pending sleep and request listens on this one signal; hundreds of pods are normal.
        setMaxListeners(0, this.signal);
        if (timeoutSeconds && timeoutSeconds > 0) {
            this.at = Date.now() + timeoutSeconds * 1000;
            this.timer = setTimeout(() => this.abort("timeout"), timeoutSeconds * 1000);
            this.timer.unref?.();
        }
        if (parent) {
            if (parent.aborted) this.abort("cancelled");
            else parent.addEventListener("abort", () => this.abort("cancelled"), { once: true });
        }
    }

    private abort(cause: "timeout" | "cancelled") {
        if (this.causeOf) return;
        this.causeOf = cause;
        if (this.timer) clearTimeout(this.timer);
        this.controller.abort(new DeadlineExceeded(cause, cause === "timeout" ? "deadline exceeded" : "cancelled"));
    }

    /** "timeout" or "cancelled" once over, else undefined. */
    get over(): "timeout" | "cancelled" | undefined {
        return this.causeOf;
    }

    remainingMs(): number {
        return this.at === undefined ? Infinity : Math.max(0, this.at - Date.now());
    }

    throwIfOver(): void {
        if (this.causeOf) throw this.signal.reason as DeadlineExceeded;
    }

    /** Stops the internal timer (call when the work is done so the process can exit). */
    dispose(): void {
        if (this.timer) clearTimeout(this.timer);
    }
}

/** Sleeps `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const onAbort = () => {
            clearTimeout(timer);
            reject(signal!.reason);
        };
        const timer = setTimeout(
            () => {
                signal?.removeEventListener("abort", onAbort);
                resolve();
            },
            Math.max(0, ms),
        );
        signal?.addEventListener("abort", onAbort, { once: true });
    });
}

export interface BackoffOptions {
    initialMs?: number;
    maxMs?: number;
    factor?: number;
    /** Fraction of the delay that is randomised (0..1). */
    jitter?: number;
    /** Upper bound for a server-sent Retry-After we are willing to honour. */
    maxRetryAfterMs?: number;
    random?: () => number;
}

/** Capped exponential backoff with jitter; a Retry-After from the server wins over the computed delay. */
export class Backoff {
    private attempt = 0;
    private readonly o: Required<BackoffOptions>;

    constructor(options: BackoffOptions = {}) {
        this.o = {
            initialMs: options.initialMs ?? 200,
            maxMs: options.maxMs ?? 5000,
            factor: options.factor ?? 2,
            jitter: options.jitter ?? 0.5,
            maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
            random: options.random ?? Math.random,
        };
    }

    get attempts(): number {
        return this.attempt;
    }

    /** Delay before the next try, in ms. */
    next(retryAfterSeconds?: number): number {
        const base = Math.min(this.o.maxMs, this.o.initialMs * Math.pow(this.o.factor, this.attempt));
        this.attempt++;
        if (retryAfterSeconds && retryAfterSeconds > 0) return Math.min(retryAfterSeconds * 1000, this.o.maxRetryAfterMs);
        // "Equal jitter": keep (1-jitter) of the delay, randomise the rest, so retries never bunch up at 0.
        return Math.round(base * (1 - this.o.jitter) + base * this.o.jitter * this.o.random());
    }

    reset(): void {
        this.attempt = 0;
    }
}

export const DEFAULT_MAX_ATTEMPTS = 10;

/** A retry withRetry is about to make: what failed, why, the delay before the next attempt, and the attempt count. */
export interface RetryNotice {
    what: string;
    failure: ApiFailure;
    /** describeFailure(failure). */
    message: string;
    delayMs: number;
    /** The attempt about to be made (2 for the first retry). */
    nextAttempt: number;
    maxAttempts: number;
}

export type RetryListener = (notice: RetryNotice) => void;

/**
 * Errors thrown by a KubeClient that was given an onRetry listener carry it here, so withRetry can tell that
 * client's owner (the CLI prints "retrying in 2s: ...") about retries of calls whose caller reports none itself.
 * Keyed by the error object: the listener of the client that failed, not a process-wide one.
 */
const retryListeners = new WeakMap<object, RetryListener>();

/** Marks `err` (thrown by a client's call) so that withRetry tells `listener` when it retries that call. */
export function reportRetriesTo(err: unknown, listener: RetryListener): void {
    if (err && typeof err === "object") retryListeners.set(err, listener);
}

export interface RetryOptions {
    signal?: AbortSignal;
    backoff?: BackoffOptions;
    /**
     * Called before each sleep, e.g. to emit a "retrying" progress event. Without it, the listener of the client
     * whose call failed (reportRetriesTo) hears about the retry.
     */
    onRetry?: (failure: ApiFailure, delayMs: number, attempt: number) => void;
    /** Override which failures are retried (default: isTransient). */
    retryable?: (failure: ApiFailure) => boolean;
    /**
     * Give up after this many attempts (default 10, about 25 s of backoff): long enough to ride out a blip,
     * short enough that a wrong server address fails instead of retrying until a 10-minute deadline.
     */
    maxAttempts?: number;
}

/**
 * Runs `fn` until it succeeds, a non-transient error occurs, or the signal aborts.
 * Non-transient errors are rethrown as KubeApiError "<what>: <server message>".
 */
export async function withRetry<T>(what: string, fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
    const backoff = new Backoff(options.backoff);
    const retryable = options.retryable ?? isTransient;
    const signal = options.signal;
    let last: ApiFailure | undefined;
    for (;;) {
        if (signal?.aborted) throw abortReason(signal, last);
        try {
            return await fn();
        } catch (err) {
            if (signal?.aborted) throw abortReason(signal, last);
            if (err instanceof DeadlineExceeded) throw err;
            const failure = toApiFailure(err);
            const attempts = backoff.attempts + 1;
            const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
            if (!retryable(failure) || attempts >= maxAttempts) {
                throw new KubeApiError(`${what}: ${describeFailure(failure)}`, failure);
            }
            last = failure;
            const delay = backoff.next(failure.retryAfterSeconds);
            if (options.onRetry) options.onRetry(failure, delay, attempts);
            else if (err && typeof err === "object") {
                try {
                    retryListeners.get(err)?.({
                        what,
                        failure,
                        message: describeFailure(failure),
                        delayMs: delay,
                        nextAttempt: attempts + 1,
                        maxAttempts,
                    });
                } catch {
                    // A listener's failure must not end the call it is told about.
                }
            }
            await sleep(delay, signal).catch(() => {
                throw abortReason(signal!, last);
            });
        }
    }
}
