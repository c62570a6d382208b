// Gates: "may we go on now?" answered as a pure verdict, plus the loop that waits for a gate to open.
//
// Every check in shared-cluster/ has two halves: a pure `evaluate…(state, …) → GateResult` that the planner and
// preview can call on data they already have (and tests can call on hand-made data), and a small I/O half that
// fetches that state. A `Gate` glues the two together; `waitUntil` polls a gate until it passes, reporting what
// blocks whenever that changes, and fails with an error that names the blocker when its time is up.

import { errorMessage, isAccessDenied, sleep, type ApiFailure } from "../drain";
import { formatDuration } from "../kube-rules";
import { permanentApiFailure } from "./api";

/** The verdict of one gate. `reason` (when blocked) and `detail` (when ok) are complete sentences for people. */
export type GateResult = GateOk | GateBlocked;

export interface GateOk {
    ok: true;
    /** What was seen, e.g. "no pod matches app=backup on worker1"; printed by preview/plan. */
    detail?: string;
}

export interface GateBlocked {
    ok: false;
    /** Names the blocker: the lock holder, the alert, the pod, the window. */
    reason: string;
    /** The gate cannot open before this instant (e.g. a maintenance window or a lease expiry): no need to poll earlier. */
    retryAt?: Date;
    /** Waiting cannot help (e.g. a closed maintenance window when waiting for it is off, a bad configuration). */
    final?: boolean;
    /** Not a verdict on the cluster: the check itself failed in a way worth retrying (a 503, a reset connection). */
    checkFailed?: boolean;
}

export const pass = (detail?: string): GateOk => (detail === undefined ? { ok: true } : { ok: true, detail });
export const blocked = (reason: string, extra: { retryAt?: Date; final?: boolean; checkFailed?: boolean } = {}): GateBlocked => ({
    ok: false,
    reason,
    ...extra,
});

/**
 * Back-off (ms) before each further check after a check that failed for a reason worth retrying, even once the
 * deadline has passed: a timeout of 0 means "do not wait for the holder (or the alert)", not "stop the roll at
 * the first 503". Four retries over 15 s, as the drain engine rides out a blip of the API server.
 */
export const CHECK_RETRY_DELAYS_MS = [1000, 2000, 4000, 8000];

/** A named check with an I/O part. `check` must not change anything in the cluster. */
export interface Gate {
    /** Short name used in progress and errors, e.g. `lease kube-system/node-upgrade`, `Prometheus alerts`. */
    readonly name: string;
    check(signal?: AbortSignal): Promise<GateResult>;
}

/** Time source and sleep, injectable so tests run the wait logic without real waiting. */
export interface Clock {
    /** Milliseconds since the epoch. */
    now(): number;
    /** Resolves after `ms`; rejects with the signal's reason when the signal aborts. */
    sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now(), sleep };

/** One "still blocked" report of `waitUntil`. */
export interface WaitProgress {
    gate: string;
    reason: string;
    /** How long we have waited so far. */
    waitedMs: number;
    /** How long we will still wait before giving up. */
    remainingMs: number;
}

/**
 * Pause between checks while waiting for a lock (the roll Lease, kured's lock): 1 s, so a released lock is taken
 * at most ~1 s later instead of up to 5 s. Each check is one GET of a single object. We poll rather than watch:
 * deploy/rbac.yaml grants only create/get/update on our Lease and get/list on DaemonSets, so a watch would be
 * refused (403) in a least-privilege setup and fall back to polling anyway; polling keeps the RBAC unchanged.
 */
export const DEFAULT_LOCK_POLL_MS = 1000;

export interface WaitOptions {
    /** Pause between two checks. Default 5 s. */
    pollMs?: number;
    /** Repeat an unchanged reason at most this often (a changed reason is reported at once). Default 60 s. */
    reportEveryMs?: number;
    clock?: Clock;
    signal?: AbortSignal;
}

/**
 * A gate stayed blocked for the whole timeout ("gave up after 5m waiting for G: R"), or blocked when waiting was
 * not allowed (timeout 0) or could not help (a final verdict): "blocked by G: R".
 */
export class GateBlockedError extends Error {
    constructor(
        readonly gate: string,
        readonly reason: string,
        readonly waitedMs: number,
        readonly timedOut: boolean,
    ) {
        super(timedOut ? `gave up after ${formatMs(waitedMs)} waiting for ${gate}: ${reason}` : `blocked by ${gate}: ${reason}`);
        this.name = "GateBlockedError";
    }
}

/**
 * A wait's length in kube-rules' Go form, whole seconds from a second on ("1m30s", "1h0m0s", "250ms"): these are
 * remaining or waited times, where a fraction of a second says nothing.
 */
export function formatMs(ms: number): string {
    const clamped = Math.max(0, ms);
    return formatDuration(clamped < 1000 ? Math.round(clamped) / 1000 : Math.round(clamped / 1000));
}

/**
 * A check that could not be made, outside the Kubernetes API (Prometheus). `final`: checking again cannot change
 * the answer (a query Prometheus rejects, refused credentials); otherwise it is worth waiting out (unreachable, 5xx).
 */
export class CheckError extends Error {
    constructor(
        message: string,
        readonly final: boolean,
    ) {
        super(message);
        this.name = "CheckError";
    }
}

/** What to do about a permanent API failure the server's message does not say already. */
function fixFor(f: ApiFailure): string {
    if (isAccessDenied(f)) return ""; // describeFailure names the permission and deploy/rbac.yaml, or the refused credentials
    // A 404 that names an object (namespaces "infra-locks" not found) is about the settings, not the address.
    if (f.code === 404 && f.object)
        return `; create ${f.object.kind.replace(/s$/, "")} ${f.object.name} first, or fix the setting that names it`;
    if (f.code === 404)
        return "; the API server does not serve this path: check the server address in the kubeconfig (no path prefix or proxy in the way) and that the cluster serves this API";
    if (f.code === 400 || f.code === 422) return "; the API server rejected the request as invalid: fix the gate's settings";
    return "";
}

/**
 * The text of a failure that checking again cannot change, or undefined for one worth waiting out. Kubernetes API
 * failures go by isTransient (429, 5xx, timeouts and connection resets are retried; 400, 401, 403, 404, 422, a TLS
 * error or a wrong address are not); a CheckError says itself; anything else (a command that cannot start) is retried.
 */
function permanentFailure(err: unknown): string | undefined {
    if (err instanceof CheckError) return err.final ? err.message : undefined;
    const f = permanentApiFailure(err);
    return f ? `${errorMessage(err)}${fixFor(f)}` : undefined;
}

/**
 * Runs a gate's check; an exception becomes a blocked verdict (we fail closed: unknown health is not healthy). A
 * failure that waiting cannot fix (a 403 for lack of a permission, a rejected query) is final: the wait ends at
 * once with what to fix, instead of retrying the same refusal until the timeout.
 */
export async function checkGate(gate: Gate, signal?: AbortSignal): Promise<GateResult> {
    try {
        return await gate.check(signal);
    } catch (err) {
        if (signal?.aborted) throw signal.reason;
        const permanent = permanentFailure(err);
        if (permanent !== undefined) return blocked(`the check failed, and waiting cannot help: ${permanent}`, { final: true });
        return blocked(`the check failed: ${errorMessage(err)}`, { checkFailed: true });
    }
}

/**
 * Checks `gate` until it passes and returns that verdict. While blocked it calls `onProgress` with the reason
 * (at once when the reason changes, otherwise every `reportEveryMs`) and checks again after `pollMs`, or not
 * before the verdict's `retryAt` when it gives one (but never after the deadline). After `timeoutMs` — or at once
 * for a `final` verdict — it
 * throws a GateBlockedError naming the gate and the last reason. `timeoutMs` 0 means: check once, do not wait.
 */
export async function waitUntil(
    gate: Gate,
    timeoutMs: number,
    onProgress?: (p: WaitProgress) => void,
    opts: WaitOptions = {},
): Promise<GateOk> {
    const clock = opts.clock ?? systemClock;
    const pollMs = Math.max(1, opts.pollMs ?? 5000);
    const reportEveryMs = opts.reportEveryMs ?? 60_000;
    const started = clock.now();
    const deadline = started + Math.max(0, timeoutMs);
    let lastReason: string | undefined;
    let lastReportAt = -Infinity;
    let failedChecks = 0;
    for (;;) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        const verdict = await checkGate(gate, opts.signal);
        if (verdict.ok) return verdict;
        const now = clock.now();
        const waited = now - started;
        failedChecks = verdict.checkFailed ? failedChecks + 1 : 0;
        const retryFailedCheck = verdict.checkFailed && !verdict.final && now >= deadline && failedChecks <= CHECK_RETRY_DELAYS_MS.length;
        if (retryFailedCheck) {
            const delay = CHECK_RETRY_DELAYS_MS[failedChecks - 1];
            const remainingMs = CHECK_RETRY_DELAYS_MS.slice(failedChecks - 1).reduce((a, b) => a + b, 0);
            onProgress?.({
                gate: gate.name,
                reason: `${verdict.reason}; checking again in ${formatMs(delay)}`,
                waitedMs: waited,
                remainingMs,
            });
            await clock.sleep(delay, opts.signal);
            continue;
        }
        if (verdict.final || now >= deadline)
            throw new GateBlockedError(gate.name, verdict.reason, waited, !verdict.final && timeoutMs > 0);
        if (verdict.reason !== lastReason || now - lastReportAt >= reportEveryMs) {
            onProgress?.({ gate: gate.name, reason: verdict.reason, waitedMs: waited, remainingMs: deadline - now });
            lastReason = verdict.reason;
            lastReportAt = now;
        }
        let next = now + pollMs;
        // A gate that knows when it can open (window, lease expiry) is not polled before then, unless that is past
        // the deadline: then we check once more at the deadline and give up with a fresh reason.
        if (verdict.retryAt) next = Math.max(next, verdict.retryAt.getTime());
        next = Math.min(next, deadline);
        await clock.sleep(next - now, opts.signal);
    }
}

/** Several gates checked together: passes when all pass; blocked names every blocking gate. */
export function allGates(name: string, gates: Gate[]): Gate {
    return {
        name,
        async check(signal) {
            const results = await Promise.all(gates.map(async (g) => ({ g, r: await checkGate(g, signal) })));
            const blockers = results.filter((x) => !x.r.ok);
            if (blockers.length === 0) {
                const details = results.map((x) => (x.r.ok && x.r.detail ? x.r.detail : undefined)).filter(Boolean);
                return pass(details.length ? details.join("; ") : undefined);
            }
            const reasons = blockers.map((x) => `${x.g.name}: ${(x.r as GateBlocked).reason}`);
            const retryAts = blockers.map((x) => (x.r as GateBlocked).retryAt?.getTime());
            const retryAt = retryAts.every((t) => t !== undefined) ? new Date(Math.max(...(retryAts as number[]))) : undefined;
            return blocked(reasons.join("; "), {
                retryAt,
                final: blockers.some((x) => (x.r as GateBlocked).final),
                // Only when nothing real blocks: a holder or an alert next to a 503 is still a verdict.
                ...(blockers.every((x) => (x.r as GateBlocked).checkFailed) ? { checkFailed: true } : {}),
            });
        },
    };
}
