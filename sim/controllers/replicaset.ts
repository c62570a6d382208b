// ReplicaSet controller: keep spec.replicas active pods (not terminating, not
// terminal). Terminating pods do not count, so an evicted pod is replaced at
// once by a new pod named <rs>-<5 chars> with a new UID.

import { resourceByPlural } from "../apiserver/resources";
import { labelSelectorFromSpec, matchLabels } from "../apiserver/selectors";
import type { StoreEvent } from "../apiserver/store";
import { clone } from "../apiserver/store";
import { Controller, controllerRef, isPodActive, isPodReady, nsName, splitKey } from "./controller";

const RS = resourceByPlural("replicasets")!;
const PODS = resourceByPlural("pods")!;

/** Build a pod from a workload's pod template. */
export function podFromTemplate(template: any, owner: any, name: string, extraLabels: Record<string, string> = {}): any {
    const t = clone(template ?? {});
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
            name,
            namespace: owner.metadata.namespace,
            labels: { ...(t.metadata?.labels ?? {}), ...extraLabels },
            ...(t.metadata?.annotations ? { annotations: t.metadata.annotations } : {}),
            ...(t.metadata?.finalizers ? { finalizers: t.metadata.finalizers } : {}),
            ownerReferences: [
                {
                    apiVersion: owner.apiVersion,
                    kind: owner.kind,
                    name: owner.metadata.name,
                    uid: owner.metadata.uid,
                    controller: true,
                    blockOwnerDeletion: true,
                },
            ],
        },
        spec: t.spec ?? {},
    };
}

export class ReplicaSetController extends Controller {
    readonly name = "replicaset";

    protected resync(): void {
        for (const rs of this.ctx.store.list("replicasets")) this.enqueue(nsName(rs));
    }

    protected onEvent(e: StoreEvent): void {
        if (e.resource === "replicasets") {
            if (e.type !== "DELETED") this.enqueue(nsName(e.object));
        } else if (e.resource === "pods") {
            const ref = controllerRef(e.object) ?? controllerRef(e.old);
            if (ref?.kind === "ReplicaSet") this.enqueue(`${e.object.metadata.namespace}/${ref.name}`);
        }
    }

    protected sync(key: string): void {
        const [ns, name] = splitKey(key);
        const rs = this.ctx.registry.tryGet(RS, ns, name);
        if (!rs) return;
        const pods = this.ctx.store
            .ownedBy(rs.metadata.uid, "pods")
            .map((x) => x.object)
            .filter((p) => controllerRef(p)?.uid === rs.metadata.uid);
        const active = pods.filter(isPodActive);
        const want = rs.metadata.deletionTimestamp ? 0 : (rs.spec?.replicas ?? 1);
        const diff = want - active.length;
        if (diff > 0) {
            for (let i = 0; i < diff; i++) {
                const podName = this.uniqueName(ns!, `${name}-`);
                try {
                    this.ctx.registry.create(PODS, ns, podFromTemplate(rs.spec.template, rs, podName));
                    this.ctx.events.record(rs, "Normal", "SuccessfulCreate", `Created pod: ${podName}`, "replicaset-controller");
                } catch (e) {
                    this.errors.push(`create pod for ${key}: ${(e as Error).message}`);
                    break;
                }
            }
        } else if (diff < 0) {
            // prefer deleting unscheduled, then not-ready, then the newest pods
            const victims = [...active].sort(
                (a, b) => rank(a) - rank(b) || (a.metadata.creationTimestamp < b.metadata.creationTimestamp ? 1 : -1),
            );
            for (const p of victims.slice(0, -diff)) {
                try {
                    this.ctx.registry.delete(PODS, ns, p.metadata.name);
                    this.ctx.events.record(rs, "Normal", "SuccessfulDelete", `Deleted pod: ${p.metadata.name}`, "replicaset-controller");
                } catch {
                    /* already gone */
                }
            }
        }
        this.updateStatus(rs);
    }

    private uniqueName(ns: string, prefix: string): string {
        for (;;) {
            const n = prefix + this.ctx.rng.nameSuffix();
            if (!this.ctx.registry.tryGet(PODS, ns, n)) return n;
        }
    }

    private updateStatus(rs: any): void {
        const sel = labelSelectorFromSpec(rs.spec?.selector);
        const pods = this.ctx.store
            .ownedBy(rs.metadata.uid, "pods")
            .map((x) => x.object)
            .filter((p) => controllerRef(p)?.uid === rs.metadata.uid && isPodActive(p));
        const ready = pods.filter(isPodReady).length;
        const status = {
            replicas: pods.length,
            fullyLabeledReplicas: sel
                ? pods.filter((p) => matchLabels(sel, { ...(rs.spec?.template?.metadata?.labels ?? {}), ...p.metadata.labels })).length
                : pods.length,
            readyReplicas: ready,
            availableReplicas: ready,
            observedGeneration: rs.metadata.generation,
        };
        this.ctx.registry.mutate(
            RS,
            rs.metadata.namespace,
            rs.metadata.name,
            (o) => {
                o.status = { ...(o.status ?? {}), ...status };
                if (!status.readyReplicas) delete o.status.readyReplicas;
                if (!status.availableReplicas) delete o.status.availableReplicas;
            },
            { subresource: "status" },
        );
    }
}

function rank(p: any): number {
    if (!p.spec?.nodeName) return 0;
    if (p.status?.phase === "Pending") return 1;
    if (!isPodReady(p)) return 2;
    return 3;
}
