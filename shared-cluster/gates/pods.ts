// Blocking pods: while a pod matching a label selector runs (on the node, or anywhere in the cluster), do not
// start. Completed pods (phase Succeeded or Failed) never block: a finished backup Job must not hold a roll
// forever (kured#227).
import type { KubeConfig, V1Pod } from "@kubernetes/client-node";
import { blocked, pass, type Gate, type GateResult } from "../gate";
import { clientFor } from "../../drain";
import { apiFailed } from "../api";
import { labelSelectorProblem } from "../rules";

export interface BlockingPodsOptions {
    /** Label selector in kubectl's syntax, e.g. "app=backup" or "maintenance-blocker in (true,yes)". */
    selector: string;
    /** "node" (default): only pods on the node about to be upgraded; "cluster": any pod, e.g. before the roll starts. */
    scope?: "node" | "cluster";
    /** Only this namespace (default: all namespaces). */
    namespace?: string;
    /** Time limit of the list request. Default 30 s. */
    requestTimeoutMs?: number;
}

/** The facts the verdict needs about one pod. */
export interface PodFacts {
    namespace: string;
    name: string;
    nodeName?: string;
    phase?: string;
    terminating?: boolean;
}

export function podFacts(p: V1Pod): PodFacts {
    return {
        namespace: p.metadata?.namespace ?? "",
        name: p.metadata?.name ?? "",
        nodeName: p.spec?.nodeName || undefined,
        phase: p.status?.phase,
        terminating: !!p.metadata?.deletionTimestamp,
    };
}

const MAX_NAMED = 5;

/**
 * Pure: `pods` are the pods matching the selector (as the API server selected them). Blocks when any of them is
 * not completed — and, in node scope, runs on `node`.
 */
export function evaluateBlockingPods(pods: PodFacts[], o: { selector: string; scope?: "node" | "cluster"; node?: string }): GateResult {
    const scope = o.scope ?? "node";
    const where = scope === "node" ? `on ${o.node}` : "in the cluster";
    const inScope = scope === "node" ? pods.filter((p) => p.nodeName === o.node) : pods;
    const active = inScope.filter((p) => p.phase !== "Succeeded" && p.phase !== "Failed");
    const done = inScope.length - active.length;
    if (active.length === 0)
        return pass(
            `no running pod matches ${o.selector} ${where}${done ? ` (${done} completed pod${done === 1 ? "" : "s"} ignored)` : ""}`,
        );
    const named = active
        .slice(0, MAX_NAMED)
        .map(
            (p) =>
                `${p.namespace}/${p.name} (${p.terminating ? "Terminating" : (p.phase ?? "Unknown")}${scope === "cluster" && p.nodeName ? ` on ${p.nodeName}` : ""})`,
        );
    const more = active.length > MAX_NAMED ? ` and ${active.length - MAX_NAMED} more` : "";
    return blocked(`${active.length === 1 ? "pod" : `${active.length} pods`} matching ${o.selector} ${where}: ${named.join(", ")}${more}`);
}

/** Lists the pods matching the selector (server-side), narrowed to the node in node scope. */
export async function listMatchingPods(
    kc: KubeConfig,
    o: BlockingPodsOptions,
    node: string | undefined,
    signal?: AbortSignal,
): Promise<PodFacts[]> {
    const fieldSelector = (o.scope ?? "node") === "node" ? `spec.nodeName=${node}` : undefined;
    const req = { signal, timeoutMs: o.requestTimeoutMs };
    const client = clientFor(kc);
    try {
        const list = o.namespace
            ? await client.call(
                  (c) => client.core.listNamespacedPod({ namespace: o.namespace!, labelSelector: o.selector, fieldSelector }, c),
                  req,
              )
            : await client.call((c) => client.core.listPodForAllNamespaces({ labelSelector: o.selector, fieldSelector }, c), req);
        return (list.items ?? []).map(podFacts);
    } catch (err) {
        if (signal?.aborted) throw signal.reason;
        throw apiFailed(`cannot list pods matching ${o.selector}`, err);
    }
}

/** The gate. Node scope needs the node's name. */
export function blockingPodsGate(kc: KubeConfig, o: BlockingPodsOptions, node?: string): Gate {
    const scope = o.scope ?? "node";
    const selectorProblem = labelSelectorProblem(o.selector);
    if (selectorProblem) throw new Error(`blocking pods: ${selectorProblem}`);
    if (scope !== "node" && scope !== "cluster")
        throw new Error(`blocking pods: scope must be "node" or "cluster", not ${JSON.stringify(scope)}`);
    if (scope === "node" && !node) throw new Error(`blocking pods ${o.selector}: node scope needs a node`);
    return {
        name: `blocking pods ${o.selector}${scope === "cluster" ? " (cluster-wide)" : ""}`,
        async check(signal) {
            const pods = await listMatchingPods(kc, o, node, signal);
            return evaluateBlockingPods(pods, { selector: o.selector, scope, node });
        },
    };
}
