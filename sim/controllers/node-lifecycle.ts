// The node-lifecycle part of kube-controller-manager:
//  - the node.kubernetes.io/unschedulable:NoSchedule taint follows
//    spec.unschedulable (asynchronously, after taintDelaySeconds);
//  - not-ready / unreachable NoSchedule taints follow the Ready condition;
//  - a node whose kubelet is dead turns Ready=Unknown after the monitor grace
//    period (NoExecute taint-based eviction is not simulated: pods stay put);
//  - pods bound to a deleted node are force-deleted (PodGC).

import { resourceByPlural } from "../apiserver/resources";
import type { StoreEvent } from "../apiserver/store";
import { Controller, knobTrue, setCondition } from "./controller";

const NODES = resourceByPlural("nodes")!;
const PODS = resourceByPlural("pods")!;

const UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
const NOT_READY = "node.kubernetes.io/not-ready";
const UNREACHABLE = "node.kubernetes.io/unreachable";

export class NodeLifecycleController extends Controller {
    readonly name = "node-lifecycle";
    private deadTimers = new Map<string, number>();

    protected resync(): void {
        for (const n of this.ctx.store.list("nodes")) {
            this.enqueue(n.metadata.name);
            if (knobTrue(n, "dead")) this.armDeadTimer(n.metadata.name);
        }
    }

    protected onEvent(e: StoreEvent): void {
        if (e.resource !== "nodes") return;
        const name = e.object.metadata.name;
        if (e.type === "DELETED") {
            this.ctx.clock.setTimeout(() => this.collectPods(name), 0);
            return;
        }
        const dead = knobTrue(e.object, "dead");
        const wasDead = e.old ? knobTrue(e.old, "dead") : false;
        if (dead && !wasDead) this.armDeadTimer(name);
        if (!dead && this.deadTimers.has(name)) {
            this.ctx.clock.clearTimeout(this.deadTimers.get(name));
            this.deadTimers.delete(name);
        }
        if (needsTaintSync(e.object)) this.enqueueAfter(name, this.ctx.options.taintDelaySeconds);
    }

    private armDeadTimer(name: string): void {
        if (this.deadTimers.has(name)) return;
        const id = this.ctx.clock.setTimeout(() => {
            this.deadTimers.delete(name);
            const n = this.ctx.registry.tryGet(NODES, undefined, name);
            if (!n || !knobTrue(n, "dead")) return;
            this.markUnknown(name);
        }, this.ctx.options.nodeMonitorGraceSeconds);
        this.deadTimers.set(name, id);
    }

    /** Kubelet stopped posting status: every condition becomes Unknown. */
    markUnknown(name: string): void {
        const now = this.ctx.clock.nowRfc3339();
        const node = this.ctx.registry.mutate(
            NODES,
            undefined,
            name,
            (o) => {
                o.status ??= {};
                const conds = (o.status.conditions ??= []);
                for (const t of ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]) {
                    setCondition(
                        conds,
                        { type: t, status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status." },
                        now,
                    );
                }
            },
            { subresource: "status" },
        );
        if (node) this.ctx.events.record(node, "Normal", "NodeNotReady", `Node ${name} status is now: NodeNotReady`, "node-controller");
    }

    protected sync(name: string): void {
        const node = this.ctx.registry.tryGet(NODES, undefined, name);
        if (!node) return;
        const want = desiredTaints(node);
        this.ctx.registry.mutate(NODES, undefined, name, (o) => {
            const others = (o.spec.taints ?? []).filter(
                (t: any) => ![UNSCHEDULABLE, NOT_READY, UNREACHABLE].includes(t.key) || t.effect !== "NoSchedule",
            );
            const keep = (o.spec.taints ?? []).filter((t: any) => want.includes(t.key) && t.effect === "NoSchedule");
            const added = want
                .filter((k) => !keep.some((t: any) => t.key === k))
                .map((k) => ({ key: k, effect: "NoSchedule", timeAdded: this.ctx.clock.nowRfc3339() }));
            const next = [...others, ...keep, ...added];
            if (next.length) o.spec.taints = next;
            else delete o.spec.taints;
        });
    }

    /** PodGC: pods on a node object that no longer exists are removed. */
    private collectPods(nodeName: string): void {
        if (this.stopped || this.ctx.registry.tryGet(NODES, undefined, nodeName)) return;
        for (const p of this.ctx.store.podsOnNode(nodeName)) {
            try {
                this.ctx.registry.delete(PODS, p.metadata.namespace, p.metadata.name, { gracePeriodSeconds: 0 });
            } catch {
                /* already gone */
            }
        }
    }
}

function desiredTaints(node: any): string[] {
    const want: string[] = [];
    if (node.spec?.unschedulable) want.push(UNSCHEDULABLE);
    const ready = (node.status?.conditions ?? []).find((c: any) => c.type === "Ready");
    if (ready && ready.status === "False") want.push(NOT_READY);
    if (ready && ready.status === "Unknown") want.push(UNREACHABLE);
    return want;
}

function needsTaintSync(node: any): boolean {
    const want = desiredTaints(node).sort().join();
    const have = (node.spec?.taints ?? [])
        .filter((t: any) => [UNSCHEDULABLE, NOT_READY, UNREACHABLE].includes(t.key) && t.effect === "NoSchedule")
        .map((t: any) => t.key)
        .sort()
        .join();
    return want !== have;
}
