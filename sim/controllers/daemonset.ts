// DaemonSet controller: one pod per eligible node. Like the real controller it
// adds tolerations for not-ready, unreachable, unschedulable and pressure
// taints, so its pods come straight back on a cordoned node (which is why
// kubectl drain leaves them alone). Pods are bound directly to their node.

import { resourceByPlural } from "../apiserver/resources";
import type { StoreEvent } from "../apiserver/store";
import { Controller, controllerRef, isPodActive, isPodReady, nsName, splitKey } from "./controller";
import { podTemplateHash } from "./deployment";
import { podFromTemplate } from "./replicaset";
import { nodeRejects } from "./scheduler";

const DS = resourceByPlural("daemonsets")!;
const PODS = resourceByPlural("pods")!;

export const DAEMONSET_TOLERATIONS = [
    { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
    { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
    { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
];

const LIFECYCLE_TAINTS = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable", "node.kubernetes.io/unschedulable"];

function withDaemonTolerations(spec: any): any {
    const tol: any[] = [...(spec.tolerations ?? [])];
    for (const t of DAEMONSET_TOLERATIONS) if (!tol.some((x) => x.key === t.key && x.effect === t.effect)) tol.push(t);
    if (spec.hostNetwork && !tol.some((x) => x.key === "node.kubernetes.io/network-unavailable")) {
        tol.push({ key: "node.kubernetes.io/network-unavailable", operator: "Exists", effect: "NoSchedule" });
    }
    return { ...spec, tolerations: tol };
}

export class DaemonSetController extends Controller {
    readonly name = "daemonset";

    protected resync(): void {
        for (const d of this.ctx.store.list("daemonsets")) this.enqueue(nsName(d));
    }

    protected onEvent(e: StoreEvent): void {
        if (e.resource === "daemonsets") {
            if (e.type !== "DELETED") this.enqueue(nsName(e.object));
        } else if (e.resource === "pods") {
            const ref = controllerRef(e.object) ?? controllerRef(e.old);
            if (ref?.kind === "DaemonSet") this.enqueue(`${e.object.metadata.namespace}/${ref.name}`);
        } else if (e.resource === "nodes") {
            const relevant =
                e.type !== "MODIFIED" ||
                JSON.stringify([e.old?.metadata?.labels, e.old?.spec?.taints]) !==
                    JSON.stringify([e.object.metadata.labels, e.object.spec?.taints]);
            if (relevant) for (const d of this.ctx.store.list("daemonsets")) this.enqueue(nsName(d));
        }
    }

    protected sync(key: string): void {
        const [ns, name] = splitKey(key);
        const ds = this.ctx.registry.tryGet(DS, ns, name);
        if (!ds || ds.metadata.deletionTimestamp) return;
        const template = { ...ds.spec.template, spec: withDaemonTolerations(ds.spec.template?.spec ?? {}) };
        const hash = podTemplateHash(ds.spec.template);
        const owned = this.ctx.store
            .ownedBy(ds.metadata.uid, "pods")
            .map((x) => x.object)
            .filter((p) => controllerRef(p)?.uid === ds.metadata.uid);
        const byNode = new Map<string, any[]>();
        for (const p of owned) {
            if (!isPodActive(p)) continue;
            const n = p.spec?.nodeName ?? "";
            if (!byNode.has(n)) byNode.set(n, []);
            byNode.get(n)!.push(p);
        }
        let desired = 0;
        let misscheduled = 0;
        for (const node of this.ctx.store.list("nodes")) {
            const nodeName = node.metadata.name;
            // the not-ready/unschedulable state of the node itself is tolerated
            const why = nodeRejects(
                { spec: template.spec },
                {
                    ...node,
                    spec: {
                        ...node.spec,
                        unschedulable: false,
                        taints: (node.spec?.taints ?? []).filter((t: any) => !LIFECYCLE_TAINTS.includes(t.key)),
                    },
                    status: { ...node.status, conditions: [{ type: "Ready", status: "True" }] },
                },
            );
            const pods = byNode.get(nodeName) ?? [];
            if (!why) {
                desired++;
                if (pods.length === 0) {
                    const pod = podFromTemplate(template, ds, `${name}-${this.uniqueSuffix(ns!, name)}`, {
                        "controller-revision-hash": hash,
                        "pod-template-generation": String(ds.metadata.generation ?? 1),
                    });
                    pod.spec.nodeName = nodeName;
                    pod.spec.affinity = {
                        ...(pod.spec.affinity ?? {}),
                        nodeAffinity: {
                            requiredDuringSchedulingIgnoredDuringExecution: {
                                nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [nodeName] }] }],
                            },
                        },
                    };
                    try {
                        this.ctx.registry.create(PODS, ns, pod);
                    } catch (e) {
                        this.errors.push(`create daemon pod on ${nodeName}: ${(e as Error).message}`);
                    }
                } else {
                    for (const extra of pods.slice(1)) this.deletePod(ns!, extra.metadata.name);
                }
            } else if (pods.length) {
                misscheduled++;
                for (const p of pods) this.deletePod(ns!, p.metadata.name);
            }
        }
        const active = this.ctx.store
            .ownedBy(ds.metadata.uid, "pods")
            .map((x) => x.object)
            .filter((p) => controllerRef(p)?.uid === ds.metadata.uid && isPodActive(p) && p.spec?.nodeName);
        const ready = active.filter(isPodReady).length;
        this.ctx.registry.mutate(
            DS,
            ns,
            name,
            (o) => {
                o.status = {
                    currentNumberScheduled: active.length,
                    desiredNumberScheduled: desired,
                    numberMisscheduled: misscheduled,
                    numberReady: ready,
                    observedGeneration: ds.metadata.generation,
                    updatedNumberScheduled: active.length,
                    numberAvailable: ready,
                    ...(desired - ready > 0 ? { numberUnavailable: desired - ready } : {}),
                };
            },
            { subresource: "status" },
        );
    }

    private uniqueSuffix(ns: string, name: string): string {
        for (;;) {
            const s = this.ctx.rng.nameSuffix();
            if (!this.ctx.registry.tryGet(PODS, ns, `${name}-${s}`)) return s;
        }
    }

    private deletePod(ns: string, name: string): void {
        try {
            this.ctx.registry.delete(PODS, ns, name);
        } catch {
            /* gone */
        }
    }
}
