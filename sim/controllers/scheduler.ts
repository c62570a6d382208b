// kube-scheduler, reduced to what node upgrades exercise: bind each pending pod
// to a Ready, schedulable node whose free cpu/memory fits the pod's requests,
// honouring nodeSelector, required node affinity and taints/tolerations.
// Scoring spreads replicas of one owner: fewest pods of that owner, then
// fewest pods overall, then node name (deterministic).

import { resourceByPlural } from "../apiserver/resources";
import type { StoreEvent } from "../apiserver/store";
import { clone } from "../apiserver/store";
import { parseQuantity, podRequest } from "../quantity";
import { Controller, controllerRef, isNodeReady, isPodActive, nsName, setCondition, splitKey } from "./controller";

const PODS = resourceByPlural("pods")!;

export function tolerates(tolerations: any[] | undefined, taint: any): boolean {
    return (tolerations ?? []).some((t) => {
        if (t.effect && t.effect !== taint.effect) return false;
        if (t.operator === "Exists") return !t.key || t.key === taint.key;
        return t.key === taint.key && (t.value ?? "") === (taint.value ?? "");
    });
}

function matchNodeSelectorTerm(term: any, node: any): boolean {
    const labels = node.metadata.labels ?? {};
    for (const e of term.matchExpressions ?? []) {
        const has = e.key in labels;
        const v = labels[e.key];
        switch (e.operator) {
            case "In":
                if (!has || !(e.values ?? []).includes(v)) return false;
                break;
            case "NotIn":
                if (has && (e.values ?? []).includes(v)) return false;
                break;
            case "Exists":
                if (!has) return false;
                break;
            case "DoesNotExist":
                if (has) return false;
                break;
            case "Gt":
                if (!has || !(Number(v) > Number(e.values?.[0]))) return false;
                break;
            case "Lt":
                if (!has || !(Number(v) < Number(e.values?.[0]))) return false;
                break;
            default:
                return false;
        }
    }
    for (const f of term.matchFields ?? []) {
        if (f.key !== "metadata.name") return false;
        const inValues = (f.values ?? []).includes(node.metadata.name);
        if (f.operator === "In" && !inValues) return false;
        if (f.operator === "NotIn" && inValues) return false;
    }
    return true;
}

/** Why `pod` cannot run on `node`, or undefined if it fits (ignoring resources). */
export function nodeRejects(pod: any, node: any): string | undefined {
    if (node.metadata.deletionTimestamp) return "node(s) were being deleted";
    const spec = pod.spec ?? {};
    for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) {
        if ((node.metadata.labels ?? {})[k] !== v) return "node(s) didn't match Pod's node affinity/selector";
    }
    const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    if (Array.isArray(terms) && terms.length && !terms.some((t: any) => matchNodeSelectorTerm(t, node))) {
        return "node(s) didn't match Pod's node affinity/selector";
    }
    if (node.spec?.unschedulable && !tolerates(spec.tolerations, { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" })) {
        return "node(s) were unschedulable";
    }
    if (!isNodeReady(node)) {
        const key = (node.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "Unknown")
            ? "node.kubernetes.io/unreachable"
            : "node.kubernetes.io/not-ready";
        if (!tolerates(spec.tolerations, { key, effect: "NoSchedule" })) return "node(s) had untolerated taint {" + key + ": }";
    }
    for (const t of node.spec?.taints ?? []) {
        if (t.effect !== "NoSchedule" && t.effect !== "NoExecute") continue;
        if (!tolerates(spec.tolerations, t)) return `node(s) had untolerated taint {${t.key}: ${t.value ?? ""}}`;
    }
    return undefined;
}

interface NodeUsage {
    total: number;
    cpu: number;
    memory: number;
    /** non-terminating pods per controller UID (for spreading) */
    byOwner: Map<string, number>;
}

export class Scheduler extends Controller {
    readonly name = "scheduler";
    /** per-batch cache of node usage, updated as this batch binds pods */
    private usage = new Map<string, NodeUsage>();

    protected beforeBatch(): void {
        this.usage.clear();
    }

    private nodeUsage(nodeName: string): NodeUsage {
        let u = this.usage.get(nodeName);
        if (u) return u;
        u = { total: 0, cpu: 0, memory: 0, byOwner: new Map() };
        for (const p of this.ctx.store.podsOnNode(nodeName)) {
            const phase = p.status?.phase;
            if (phase === "Succeeded" || phase === "Failed") continue;
            u.total++;
            u.cpu += podRequest(p, "cpu");
            u.memory += podRequest(p, "memory");
            const uid = controllerRef(p)?.uid;
            if (uid && !p.metadata.deletionTimestamp) u.byOwner.set(uid, (u.byOwner.get(uid) ?? 0) + 1);
        }
        this.usage.set(nodeName, u);
        return u;
    }

    protected resync(): void {
        for (const p of this.ctx.store.podsOnNode("")) this.enqueue(nsName(p));
    }

    protected onEvent(e: StoreEvent): void {
        if (e.resource === "pods") {
            const p = e.object;
            if (e.type !== "DELETED" && !p.spec?.nodeName && !p.metadata.deletionTimestamp) this.enqueue(nsName(p));
            // capacity freed on a node: pending pods may fit now
            if (e.old?.spec?.nodeName && (e.type === "DELETED" || !isPodActive(p))) this.requeuePending();
        } else if (e.resource === "nodes") {
            this.requeuePending();
        }
    }

    private requeuePending(): void {
        for (const p of this.ctx.store.podsOnNode("")) if (!p.metadata.deletionTimestamp) this.enqueue(nsName(p));
    }

    protected sync(key: string): void {
        const [ns, name] = splitKey(key);
        const pod = this.ctx.registry.tryGet(PODS, ns, name);
        if (!pod || pod.spec?.nodeName || pod.metadata.deletionTimestamp) return;
        if ((pod.spec?.schedulerName ?? "default-scheduler") !== "default-scheduler") return;

        const nodes = this.ctx.store.list("nodes");
        const reasons = new Map<string, number>();
        const fits: { node: any; ownerCount: number; total: number }[] = [];
        const owner = controllerRef(pod)?.uid;
        const cpu = podRequest(pod, "cpu");
        const mem = podRequest(pod, "memory");
        for (const node of nodes) {
            let why = nodeRejects(pod, node);
            let ownerCount = 0;
            let total = 0;
            if (!why) {
                const u = this.nodeUsage(node.metadata.name);
                total = u.total;
                ownerCount = owner ? (u.byOwner.get(owner) ?? 0) : 0;
                const usedCpu = u.cpu;
                const usedMem = u.memory;
                const alloc = node.status?.allocatable ?? node.status?.capacity ?? {};
                const maxPods = alloc.pods !== undefined ? parseQuantity(alloc.pods) : 110;
                if (total + 1 > maxPods) why = "Too many pods";
                else if (alloc.cpu !== undefined && usedCpu + cpu > parseQuantity(alloc.cpu) + 1e-9) why = "Insufficient cpu";
                else if (alloc.memory !== undefined && usedMem + mem > parseQuantity(alloc.memory)) why = "Insufficient memory";
            }
            if (why) reasons.set(why, (reasons.get(why) ?? 0) + 1);
            else fits.push({ node, ownerCount, total });
        }
        const now = this.ctx.clock.nowRfc3339();
        if (!fits.length) {
            const detail = [...reasons]
                .sort((a, b) => (a[0] < b[0] ? -1 : 1))
                .map(([r, n]) => `${n} ${r}`)
                .join(", ");
            const message = `0/${nodes.length} nodes are available${detail ? `: ${detail}` : ""}. preemption: 0/${nodes.length} nodes are available: ${nodes.length} Preemption is not helpful for scheduling.`;
            const before = pod.status?.conditions?.find((c: any) => c.type === "PodScheduled");
            this.ctx.registry.mutate(
                PODS,
                ns,
                name,
                (p) => {
                    p.status ??= {};
                    const conds = (p.status.conditions ??= []);
                    setCondition(
                        conds,
                        { type: "PodScheduled", status: "False", lastProbeTime: null, reason: "Unschedulable", message },
                        now,
                    );
                },
                { subresource: "status" },
            );
            if (before?.message !== message) this.ctx.events.record(pod, "Warning", "FailedScheduling", message, "default-scheduler");
            return;
        }
        fits.sort((a, b) => a.ownerCount - b.ownerCount || a.total - b.total || (a.node.metadata.name < b.node.metadata.name ? -1 : 1));
        const target = fits[0].node.metadata.name;
        const bound = clone(pod);
        bound.spec.nodeName = target;
        bound.status ??= {};
        setCondition((bound.status.conditions ??= []), { type: "PodScheduled", status: "True", lastProbeTime: null }, now);
        for (const c of bound.status.conditions)
            if (c.type === "PodScheduled") {
                delete c.reason;
                delete c.message;
            }
        this.ctx.registry.replaceDirect(PODS, bound);
        const u = this.nodeUsage(target);
        u.total++;
        u.cpu += cpu;
        u.memory += mem;
        if (owner) u.byOwner.set(owner, (u.byOwner.get(owner) ?? 0) + 1);
        this.ctx.events.record(pod, "Normal", "Scheduled", `Successfully assigned ${ns}/${name} to ${target}`, "default-scheduler");
    }
}
