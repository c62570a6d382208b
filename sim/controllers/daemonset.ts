// DaemonSet controller: one pod per eligible node. Like the real controller it
// adds tolerations for not-ready, unreachable, unschedulable and pressure
// taints, so its pods come straight back on a cordoned node (which is why
// kubectl drain leaves them alone), and it removes pods only for NoExecute
// taints they do not tolerate. Pods are bound directly to their node.

import { resourceByPlural } from "../apiserver/resources";
import type { StoreEvent } from "../apiserver/store";
import { Controller, controllerRef, isPodActive, isPodReady, nsName, splitKey } from "./controller";
import { podTemplateHash } from "./deployment";
import { podFromTemplate } from "./replicaset";
import { nodeRejects, tolerates } from "./scheduler";

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

/**
 * The real controller's NodeShouldRunDaemonPod: `run` when the node matches nodeName/selector/affinity and
 * every NoSchedule/NoExecute taint is tolerated (the daemon tolerations above cover cordon and not-ready);
 * an untolerated NoSchedule taint only stops new pods (`keep`), an untolerated NoExecute one removes them.
 */
export function shouldRunDaemonPod(spec: any, node: any): { run: boolean; keep: boolean } {
    if (spec.nodeName && spec.nodeName !== node.metadata.name) return { run: false, keep: false };
    const placement = nodeRejects(
        { spec: { ...spec, tolerations: [] } },
        // only nodeSelector/affinity here: taints are judged below, readiness and deletion do not matter
        {
            metadata: { ...node.metadata, deletionTimestamp: undefined },
            spec: {},
            status: { conditions: [{ type: "Ready", status: "True" }] },
        },
    );
    if (placement) return { run: false, keep: false };
    const untolerated = (node.spec?.taints ?? []).filter(
        (t: any) => (t.effect === "NoSchedule" || t.effect === "NoExecute") && !tolerates(spec.tolerations, t),
    );
    return { run: untolerated.length === 0, keep: !untolerated.some((t: any) => t.effect === "NoExecute") };
}

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
        let scheduled = 0;
        const active: any[] = [];
        for (const node of this.ctx.store.list("nodes")) {
            const nodeName = node.metadata.name;
            const { run, keep } = shouldRunDaemonPod(template.spec, node);
            const pods = byNode.get(nodeName) ?? [];
            if (run) {
                desired++;
                if (pods.length) scheduled++;
            } else if (pods.length) misscheduled++;
            if (run && pods.length === 0) {
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
                    this.ctx.events.record(ds, "Normal", "SuccessfulCreate", `Created pod: ${pod.metadata.name}`, "daemonset-controller");
                } catch (e) {
                    this.errors.push(`create daemon pod on ${nodeName}: ${(e as Error).message}`);
                }
            } else if (keep) {
                for (const extra of pods.slice(1)) this.deletePod(ds, extra.metadata.name);
                if (run && pods.length) active.push(pods[0]);
            } else {
                for (const p of pods) this.deletePod(ds, p.metadata.name);
            }
        }
        const ready = active.filter(isPodReady).length;
        this.ctx.registry.mutate(
            DS,
            ns,
            name,
            (o) => {
                o.status = {
                    currentNumberScheduled: scheduled,
                    desiredNumberScheduled: desired,
                    numberMisscheduled: misscheduled,
                    numberReady: ready,
                    observedGeneration: ds.metadata.generation,
                    updatedNumberScheduled: scheduled,
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

    private deletePod(ds: any, name: string): void {
        try {
            this.ctx.registry.delete(PODS, ds.metadata.namespace, name);
            this.ctx.events.record(ds, "Normal", "SuccessfulDelete", `Deleted pod: ${name}`, "daemonset-controller");
        } catch {
            /* gone */
        }
    }
}
