// Waiting for a node to come back after its upgrade: Ready=True and (optionally) the kubelet reporting the
// target version. A watch on the single node reacts at once; a slow GET backs it up. The node may even be
// missing for a while (re-registration), which is reported, not fatal.
import type { KubeConfig, V1Node } from "@kubernetes/client-node";
import { versionSatisfiesTarget, formatDuration, isNodeReady } from "../kube-rules";
import { describeFailure, isNotFound, isTransient, toApiFailure } from "./api-errors";
import { clientFor } from "./kube-client";
import { listAllPages } from "./list-pods";
import { Deadline, DeadlineExceeded } from "./retry";
import type { ProgressListener } from "./types";
import { WatchLoop } from "./watch-loop";

export const DEFAULT_NODE_WAIT_TIMEOUT_SECONDS = 600;

export interface WaitForNodeOptions {
    /** Wait for Ready=True (default true). */
    ready?: boolean;
    /** Wait for status.nodeInfo.kubeletVersion to equal this ("1.20.0" and "v1.20.0" are the same). */
    kubeletVersion?: string;
    /** Default 600; 0 = forever. */
    timeoutSeconds?: number;
    onProgress?: ProgressListener;
    signal?: AbortSignal;
    /** Interval of the safety GET (seconds, default 5). */
    recheckSeconds?: number;
}

/** Thrown when the node does not reach the wanted state in time; says what was last seen. */
export class NodeWaitError extends Error {
    constructor(
        message: string,
        public readonly node: string,
        public readonly lastSeen: string,
        public readonly kind: "timeout" | "cancelled",
    ) {
        super(message);
        this.name = "NodeWaitError";
    }
}

/**
 * Whether a kubelet version satisfies a target: the product's one rule (kube-rules/version.ts). "v1.20.0" equals
 * "1.20.0"; a target without a pre-release part matches any distribution build of that patch release.
 */
export function kubeletVersionMatches(actual: string, target: string): boolean {
    return versionSatisfiesTarget(actual, target);
}

function describe(node: string, n: V1Node | undefined): string {
    if (!n) return `node ${node} is not registered`;
    const version = n.status?.nodeInfo?.kubeletVersion || "an unknown version";
    return `node ${node} is ${isNodeReady(n) ? "Ready" : "NotReady"} at ${version}`;
}

export async function waitForNode(
    kc: KubeConfig,
    node: string,
    opts: WaitForNodeOptions = {},
): Promise<{ ready: boolean; kubeletVersion: string }> {
    const wantReady = opts.ready ?? true;
    const target = opts.kubeletVersion;
    const timeoutSeconds = opts.timeoutSeconds ?? DEFAULT_NODE_WAIT_TIMEOUT_SECONDS;
    const deadline = new Deadline(timeoutSeconds, opts.signal);
    const client = clientFor(kc);
    const want = [wantReady ? "Ready" : "", target ? `at ${target.startsWith("v") ? target : `v${target}`}` : ""].filter(Boolean).join(" ");
    let latest: V1Node | undefined;
    /** Whether the node was read at all (else "not registered" would be a guess). */
    let read = false;
    let lastMessage = "";
    /** The last failed read of the node (cleared by a good one), for the timeout message. */
    let lastError: string | undefined;
    const recheckSeconds = opts.recheckSeconds ?? 5;
    const emit = (e: Parameters<ProgressListener>[0]) => {
        try {
            opts.onProgress?.(e);
        } catch {
            /* ignore printer bugs */
        }
    };
    const satisfied = (n: V1Node | undefined) =>
        !!n && (!wantReady || isNodeReady(n)) && (!target || kubeletVersionMatches(n.status?.nodeInfo?.kubeletVersion ?? "", target));

    return new Promise((resolve, reject) => {
        let finished = false;
        let recheck: NodeJS.Timeout | undefined;
        const end = (err?: Error) => {
            if (finished) return;
            finished = true;
            loop.stop();
            if (recheck) clearTimeout(recheck);
            deadline.dispose();
            if (err) return reject(err);
            const version = latest?.status?.nodeInfo?.kubeletVersion ?? "";
            opts.onProgress?.({ type: "node-ready", node, kubeletVersion: version });
            resolve({ ready: !!latest && isNodeReady(latest), kubeletVersion: version });
        };
        const see = (n: V1Node | undefined) => {
            if (finished) return;
            latest = n;
            read = true;
            if (satisfied(n)) return end();
            const message = `${describe(node, n)}, waiting for ${want || "it"}`;
            if (message !== lastMessage) {
                lastMessage = message;
                emit({ type: "node-waiting", node, message });
            }
        };
        const loop = new WatchLoop<V1Node>(kc, {
            what: `node "${node}"`,
            path: "/api/v1/nodes",
            query: { fieldSelector: `metadata.name=${node}` },
            list: (signal) =>
                listAllPages(
                    `get node "${node}"`,
                    (token) =>
                        client.call((o) => client.core.listNode({ fieldSelector: `metadata.name=${node}`, _continue: token }, o), {
                            signal,
                        }),
                    {
                        signal,
                        onRetry: (f) => (lastError = describeFailure(f)),
                    },
                ),
            onReset: (items) => {
                lastError = undefined;
                see(items[0]);
            },
            onEvent: (type, n) => see(type === "DELETED" ? undefined : n),
            // The safety GET below stands in for a refused watch; say once what the role lacks.
            fallback: `reading the node every ${formatDuration(recheckSeconds)} instead`,
            onWatchRefused: (message) => emit({ type: "warning", node, message }),
        });
        const safety = async () => {
            if (finished) return;
            try {
                const n = await client.call((o) => client.core.readNode({ name: node }, o), { signal: deadline.signal });
                lastError = undefined;
                see(n);
            } catch (err) {
                const f = toApiFailure(err);
                if (isNotFound(f)) {
                    lastError = undefined;
                    see(undefined);
                } else if (!deadline.signal.aborted) {
                    lastError = describeFailure(f);
                }
            }
            if (!finished) {
                // Not unref'd: without a watch (refused) this timer is all that keeps a CLI process waiting.
                recheck = setTimeout(safety, recheckSeconds * 1000);
            }
        };
        deadline.signal.addEventListener(
            "abort",
            () => {
                const seen = read ? describe(node, latest) : `node ${node} could not be read`;
                const cause = (deadline.signal.reason as DeadlineExceeded)?.cause ?? deadline.over;
                const last = lastError ? `; last error: ${lastError}` : "";
                end(
                    cause === "cancelled"
                        ? new NodeWaitError(`waiting for node ${node} was cancelled; ${seen}${last}`, node, seen, "cancelled")
                        : new NodeWaitError(
                              `timed out after ${formatDuration(timeoutSeconds)} waiting for node ${node}: ${seen}, waiting for ${want || "it"}${last}`,
                              node,
                              seen,
                              "timeout",
                          ),
                );
            },
            { once: true },
        );
        if (deadline.signal.aborted) return;
        loop.start().then(
            () => {
                recheck = setTimeout(safety, recheckSeconds * 1000);
            },
            // The first list failed for good (after its retries): keep trying by GET, and say so if it was refused.
            (err) => {
                const f = toApiFailure(err);
                lastError = describeFailure(f);
                if (!finished && !isTransient(f))
                    emit({
                        type: "warning",
                        node,
                        message: `cannot list node "${node}": ${lastError}; reading it every ${formatDuration(recheckSeconds)} instead`,
                    });
                void safety();
            },
        );
    });
}
