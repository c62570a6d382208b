// drain(): cordon, plan (list + filters), refuse before touching anything if a pod blocks, then run the
// executor and turn its per-pod records into a DrainResult or a DrainError that names what blocks.
//
// Deliberate differences from kubectl (see drain-spec §8):
//  - a failed cordon stops the drain (kubectl prints the error and evicts anyway, so pods can land back);
//  - the default timeout is finite (DEFAULT_DRAIN_TIMEOUT_SECONDS) and covers the whole drain of the node,
//    including the cordon and the listing; 0 still means forever.
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeApiError, describeFailure, toApiFailure } from "./api-errors";
import { cordon, dryRunTag } from "./cordon";
import { formatDuration } from "../kube-rules";
import { evictionGroupVersion } from "./evict";
import { EvictionExecutor } from "./evict-pods";
import { planDrainWithListing } from "./plan-drain";
import { Deadline, DeadlineExceeded } from "./retry";
import {
    DEFAULT_DRAIN_TIMEOUT_SECONDS,
    DrainError,
    type DrainOptions,
    type DrainResult,
    type ProgressEvent,
    type ProgressListener,
    type RemainingPod,
} from "./types";

export const DEFAULT_CONCURRENCY = 50;
export const DEFAULT_SAFETY_RECHECK_SECONDS = 5;

export type DrainCallOptions = DrainOptions & { onProgress?: ProgressListener; signal?: AbortSignal };

function safeEmitter(listener?: ProgressListener): (e: ProgressEvent) => void {
    return (e) => {
        try {
            listener?.(e);
        } catch {
            // a broken progress printer must not break the drain
        }
    };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * The pods left on the node, grouped by cause and capped as Cluster API's drain reports them: at most
 * MAX_CAUSES causes, MAX_PODS_PER_CAUSE pods named for each, "and N more" for the rest. So 200 pods behind one
 * budget are one line with a count, and a long error never hides the other causes. (The full list stays on
 * DrainError.remaining.)
 */
export function remainingLines(remaining: RemainingPod[]): string {
    const byCause = new Map<string, string[]>();
    for (const r of remaining) byCause.set(r.reason, [...(byCause.get(r.reason) ?? []), r.pod]);
    const causes = [...byCause.entries()];
    const lines = causes.slice(0, MAX_CAUSES).map(([reason, pods]) => {
        if (pods.length === 1) return `\n  pod ${pods[0]}: ${reason}`;
        const named = pods.slice(0, MAX_PODS_PER_CAUSE).join(", ");
        const more = pods.length > MAX_PODS_PER_CAUSE ? ` and ${pods.length - MAX_PODS_PER_CAUSE} more` : "";
        return `\n  ${pods.length} pods (${named}${more}): ${reason}`;
    });
    const rest = causes.slice(MAX_CAUSES);
    if (rest.length > 0) {
        const pods = rest.reduce((n, [, p]) => n + p.length, 0);
        lines.push(`\n  and ${plural(rest.length, "more cause")} (${plural(pods, "pod")})`);
    }
    return lines.join("");
}

const MAX_CAUSES = 5;
const MAX_PODS_PER_CAUSE = 3;

/** Turns an error from a step before eviction into a DrainError. */
function stepError(err: unknown, node: string, deadline: Deadline, timeoutSeconds: number, step: string): DrainError {
    if (err instanceof DrainError) return err;
    // The call that ran out of time says what it was retrying (e.g. a reset connection), as evictions do.
    const last = err instanceof DeadlineExceeded && err.lastError ? `; last error: ${err.lastError}` : "";
    if (deadline.over === "cancelled")
        return new DrainError(`drain of node "${node}" was cancelled while ${step}${last}`, node, [], "cancelled");
    if (deadline.over === "timeout" || err instanceof DeadlineExceeded) {
        return new DrainError(
            `drain of node "${node}" timed out after ${formatDuration(timeoutSeconds)} while ${step}${last}`,
            node,
            [],
            "timeout",
        );
    }
    const message = err instanceof KubeApiError ? err.message : describeFailure(toApiFailure(err));
    return new DrainError(message, node, [], "api-error");
}

/**
 * Cordons `node` and evicts its pods with kubectl's semantics. Resolves when every evictable pod is gone;
 * throws DrainError ("blocked" before anything is evicted, "timeout", "eviction-failed", "api-error",
 * "cancelled"). The node stays cordoned in every case.
 */
export async function drain(kc: KubeConfig, node: string, opts: DrainCallOptions = {}): Promise<DrainResult> {
    const started = Date.now();
    const emit = safeEmitter(opts.onProgress);
    const timeoutSeconds = opts.timeoutSeconds ?? DEFAULT_DRAIN_TIMEOUT_SECONDS;
    const deadline = new Deadline(timeoutSeconds, opts.signal);
    const dryRun = dryRunTag(opts.dryRun);
    const onRetry = (f: ReturnType<typeof toApiFailure>, delayMs: number) =>
        emit({
            type: "retrying",
            node,
            message: `${describeFailure(f)}; retrying in ${formatDuration(delayMs / 1000)}`,
            delaySeconds: delayMs / 1000,
        });
    let step = "cordoning the node";
    try {
        const { changed: cordoned } = await cordon(kc, node, { onProgress: emit, dryRun: opts.dryRun, signal: deadline.signal }).catch(
            (err) => {
                if (err instanceof KubeApiError && /not found/.test(err.message)) throw err;
                if (err instanceof KubeApiError)
                    throw new KubeApiError(`unable to cordon node "${node}": ${describeFailure(err.failure)}`, err.failure);
                throw err;
            },
        );

        step = "listing the node's pods";
        const { classification, listing } = await planDrainWithListing(kc, node, opts, { signal: deadline.signal, onRetry });
        emit({
            type: "classified",
            node,
            evict: classification.evict.length,
            skip: classification.skip.length,
            blocked: classification.blocked.length,
            warnings: classification.warnings,
        });
        if (classification.blocked.length > 0) {
            // kubectl: any error verdict fails the node before a single eviction.
            throw new DrainError(
                classification.errors.join("\n"),
                node,
                classification.blocked.map((b) => ({ pod: b.key, reason: (b.verdict as { reason: string }).reason })),
                "blocked",
            );
        }
        const skipped = classification.skip.map((s) => ({ pod: s.key, reason: (s.verdict as { reason: string }).reason }));
        const warnings = [...classification.warnings];

        if (opts.dryRun === "client") {
            const now = new Date().toISOString();
            for (const e of classification.evict) emit({ type: "evicting", node, pod: e.key, attempt: 1, dryRun: "client" });
            const seconds = (Date.now() - started) / 1000;
            emit({ type: "drained", node, evicted: classification.evict.length, seconds, dryRun: "client" });
            return {
                node,
                dryRun: "client",
                cordoned,
                evicted: classification.evict.map((e) => ({ pod: e.key, uid: e.pod.metadata?.uid ?? "", evictedAt: now, goneAt: now })),
                skipped,
                warnings,
                durationSeconds: seconds,
            };
        }

        step = "checking eviction support";
        const groupVersion = opts.disableEviction ? undefined : await evictionGroupVersion(kc, deadline.signal);
        if (!opts.disableEviction && !groupVersion)
            warnings.push("the server does not support the eviction API; pods are deleted instead (PodDisruptionBudgets are not checked)");

        step = "evicting pods";
        const executor = new EvictionExecutor(
            {
                node,
                kc,
                deadline,
                evictionGroupVersion: groupVersion,
                gracePeriodSeconds: opts.gracePeriodSeconds,
                dryRun: opts.dryRun,
                skipWaitSeconds: opts.skipWaitForDeleteTimeoutSeconds,
                concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY,
                safetyRecheckMs: (opts.safetyRecheckSeconds ?? DEFAULT_SAFETY_RECHECK_SECONDS) * 1000,
                maxUnavailablePerWorkload: opts.maxUnavailablePerWorkload,
                emit,
            },
            classification.evict.map((e) => e.pod),
        );
        await executor.run(listing.items, listing.resourceVersion);
        warnings.push(...executor.warnings);

        for (const r of executor.runs) {
            if (r.how === "skipped") {
                warnings.push(
                    `stopped waiting for pod ${r.key}: its deletionTimestamp is older than ${opts.skipWaitForDeleteTimeoutSeconds} seconds`,
                );
            }
        }
        const unfinished = executor.unfinished;
        if (unfinished.length > 0) {
            const remaining = executor.describeRemaining();
            if (deadline.over === "cancelled") {
                throw new DrainError(
                    `drain of node "${node}" was cancelled with ${plural(remaining.length, "pod")} remaining:${remainingLines(remaining)}`,
                    node,
                    remaining,
                    "cancelled",
                );
            }
            if (deadline.over === "timeout") {
                throw new DrainError(
                    `drain of node "${node}" timed out after ${formatDuration(timeoutSeconds)} with ${plural(remaining.length, "pod")} remaining:${remainingLines(remaining)}`,
                    node,
                    remaining,
                    "timeout",
                );
            }
            const failed = executor.failed.length;
            throw new DrainError(
                `drain of node "${node}" failed: ${plural(failed, "pod")} could not be evicted${remaining.length > failed ? ` and ${remaining.length - failed} more remain` : ""}:${remainingLines(remaining)}`,
                node,
                remaining,
                "eviction-failed",
            );
        }

        const seconds = (Date.now() - started) / 1000;
        const evicted = executor.evicted;
        emit({ type: "drained", node, evicted: evicted.length, seconds, dryRun });
        return { node, dryRun, cordoned, evicted, skipped, warnings, durationSeconds: seconds };
    } catch (err) {
        throw stepError(err, node, deadline, timeoutSeconds, step);
    } finally {
        deadline.dispose();
    }
}
