// Rough scheduler predicates for replacement pods: node readiness, taints vs tolerations, nodeSelector
// and required node affinity. Resources are handled by the planner's capacity.ts; pod (anti-)affinity and topology
// spread are not modelled (the plan says so).
import type { V1Node, V1NodeSelectorRequirement, V1Pod, V1Taint, V1Toleration } from "@kubernetes/client-node";

export function isNodeReady(node: V1Node): boolean {
    return (node.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

/** Taints that keep pods off a node. The cordon taint is left out: cordoning is modelled separately. */
export function schedulingTaints(node: V1Node): V1Taint[] {
    return (node.spec?.taints ?? []).filter(
        (t) => (t.effect === "NoSchedule" || t.effect === "NoExecute") && t.key !== "node.kubernetes.io/unschedulable",
    );
}

function tolerates(toleration: V1Toleration, taint: V1Taint): boolean {
    if (toleration.effect && toleration.effect !== taint.effect) return false;
    if (toleration.operator === "Exists") return !toleration.key || toleration.key === taint.key;
    return toleration.key === taint.key && (toleration.value ?? "") === (taint.value ?? "");
}

export function toleratesAll(pod: V1Pod, taints: V1Taint[]): boolean {
    const tolerations = pod.spec?.tolerations ?? [];
    return taints.every((taint) => tolerations.some((t) => tolerates(t, taint)));
}

function requirementMatches(req: V1NodeSelectorRequirement, labels: Record<string, string>): boolean {
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    const value = labels[req.key];
    const values = req.values ?? [];
    switch (req.operator) {
        case "In":
            return has && values.includes(value);
        case "NotIn":
            return !has || !values.includes(value);
        case "Exists":
            return has;
        case "DoesNotExist":
            return !has;
        case "Gt":
            return has && Number(value) > Number(values[0]);
        case "Lt":
            return has && Number(value) < Number(values[0]);
        default:
            return false;
    }
}

/** nodeSelector and requiredDuringScheduling node affinity (terms are ORed, expressions ANDed). */
export function matchesNodeConstraints(pod: V1Pod, labels: Record<string, string>): boolean {
    for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) {
        if (labels[k] !== v) return false;
    }
    const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    if (!terms || terms.length === 0) return true;
    return terms.some((term) => {
        const exprs = term.matchExpressions ?? [];
        // matchFields (only metadata.name exists) is ignored: only DaemonSet pods use it, and they are never replaced.
        if (exprs.length === 0 && (term.matchFields ?? []).length === 0) return false;
        return exprs.every((e) => requirementMatches(e, labels));
    });
}

const NO_KEYS: string[] = [];

/** Label keys a pod's placement depends on; nodes that agree on these keys are interchangeable for it. */
export function constraintLabelKeys(pod: V1Pod): string[] {
    if (!pod.spec?.nodeSelector && !pod.spec?.affinity?.nodeAffinity) return NO_KEYS;
    const keys = Object.keys(pod.spec?.nodeSelector ?? {});
    const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
    for (const term of terms) for (const e of term.matchExpressions ?? []) keys.push(e.key);
    return keys;
}

/** A string that is equal for pods with the same placement constraints (nodeSelector, affinity, tolerations). */
export function constraintSignature(pod: V1Pod): string {
    const spec = pod.spec;
    if (!spec?.nodeSelector && !spec?.affinity?.nodeAffinity && !spec?.tolerations?.length) return "";
    return JSON.stringify([
        spec.nodeSelector ?? null,
        spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? null,
        spec.tolerations ?? null,
    ]);
}
