// Deployment controller (simplified): one ReplicaSet per pod template,
// named <deployment>-<pod-template-hash>. The RS matching the current template
// gets spec.replicas; older ones are scaled to 0 (no surge/unavailable pacing).
// Status is aggregated from the ReplicaSets.

import { resourceByPlural } from "../apiserver/resources";
import type { StoreEvent } from "../apiserver/store";
import { clone } from "../apiserver/store";
import { fnv32a, safeEncode } from "../random";
import { canonicalJson, Controller, controllerRef, nsName, setCondition, splitKey } from "./controller";

const DEPLOY = resourceByPlural("deployments")!;
const RS = resourceByPlural("replicasets")!;

function templateWithoutHash(t: any): string {
    const c = clone(t ?? {});
    if (c.metadata?.labels) delete c.metadata.labels["pod-template-hash"];
    return canonicalJson(c);
}

export function podTemplateHash(template: any): string {
    return safeEncode(fnv32a(templateWithoutHash(template)));
}

export class DeploymentController extends Controller {
    readonly name = "deployment";

    protected resync(): void {
        for (const d of this.ctx.store.list("deployments")) this.enqueue(nsName(d));
    }

    protected onEvent(e: StoreEvent): void {
        if (e.resource === "deployments") {
            if (e.type !== "DELETED") this.enqueue(nsName(e.object));
        } else if (e.resource === "replicasets") {
            const ref = controllerRef(e.object) ?? controllerRef(e.old);
            if (ref?.kind === "Deployment") this.enqueue(`${e.object.metadata.namespace}/${ref.name}`);
        }
    }

    protected sync(key: string): void {
        const [ns, name] = splitKey(key);
        const d = this.ctx.registry.tryGet(DEPLOY, ns, name);
        if (!d || d.metadata.deletionTimestamp) return;
        const owned = this.ctx.store
            .ownedBy(d.metadata.uid, "replicasets")
            .map((x) => x.object)
            .filter((rs) => controllerRef(rs)?.uid === d.metadata.uid);
        const want = templateWithoutHash(d.spec.template);
        let current = owned.find((rs) => templateWithoutHash(rs.spec?.template) === want);
        const replicas = d.spec.replicas ?? 1;
        if (!current) {
            const hash = podTemplateHash(d.spec.template);
            const tpl = clone(d.spec.template);
            tpl.metadata ??= {};
            tpl.metadata.labels = { ...(tpl.metadata.labels ?? {}), "pod-template-hash": hash };
            const selector = clone(d.spec.selector ?? {});
            selector.matchLabels = { ...(selector.matchLabels ?? {}), "pod-template-hash": hash };
            const revision =
                1 + Math.max(0, ...owned.map((rs) => Number(rs.metadata.annotations?.["deployment.kubernetes.io/revision"] ?? 0)));
            current = this.ctx.registry.create(RS, ns, {
                metadata: {
                    name: `${name}-${hash}`,
                    labels: { ...(tpl.metadata.labels ?? {}) },
                    annotations: {
                        "deployment.kubernetes.io/desired-replicas": String(replicas),
                        "deployment.kubernetes.io/max-replicas": String(replicas),
                        "deployment.kubernetes.io/revision": String(revision),
                    },
                    ownerReferences: [
                        {
                            apiVersion: "apps/v1",
                            kind: "Deployment",
                            name,
                            uid: d.metadata.uid,
                            controller: true,
                            blockOwnerDeletion: true,
                        },
                    ],
                },
                spec: { replicas, minReadySeconds: d.spec.minReadySeconds ?? 0, selector, template: tpl },
            });
            if (replicas > 0) this.scalingEvent(d, current.metadata.name, 0, replicas);
        } else if ((current.spec?.replicas ?? 1) !== replicas) {
            this.ctx.registry.mutate(RS, ns, current.metadata.name, (o) => {
                o.spec.replicas = replicas;
            });
            this.scalingEvent(d, current.metadata.name, current.spec?.replicas ?? 1, replicas);
        }
        for (const rs of owned) {
            if (rs.metadata.uid === current.metadata.uid || (rs.spec?.replicas ?? 0) === 0) continue;
            this.ctx.registry.mutate(RS, ns, rs.metadata.name, (o) => {
                o.spec.replicas = 0;
            });
            this.scalingEvent(d, rs.metadata.name, rs.spec.replicas, 0);
        }
        this.updateStatus(d);
    }

    /** The deployment controller's ScalingReplicaSet event (its message since Kubernetes 1.29). */
    private scalingEvent(d: any, rs: string, from: number, to: number): void {
        const how = to > from ? "up" : "down";
        this.ctx.events.record(
            d,
            "Normal",
            "ScalingReplicaSet",
            `Scaled ${how} replica set ${rs} from ${from} to ${to}`,
            "deployment-controller",
        );
    }

    private updateStatus(d: any): void {
        const owned = this.ctx.store
            .ownedBy(d.metadata.uid, "replicasets")
            .map((x) => x.object)
            .filter((rs) => controllerRef(rs)?.uid === d.metadata.uid);
        const want = templateWithoutHash(d.spec.template);
        const current = owned.find((rs) => templateWithoutHash(rs.spec?.template) === want);
        const sum = (f: (rs: any) => number) => owned.reduce((a, rs) => a + f(rs), 0);
        const replicas = sum((rs) => rs.status?.replicas ?? 0);
        const ready = sum((rs) => rs.status?.readyReplicas ?? 0);
        const available = sum((rs) => rs.status?.availableReplicas ?? 0);
        const desired = d.spec.replicas ?? 1;
        const now = this.ctx.clock.nowRfc3339();
        this.ctx.registry.mutate(
            DEPLOY,
            d.metadata.namespace,
            d.metadata.name,
            (o) => {
                const s: any = { observedGeneration: d.metadata.generation, replicas, updatedReplicas: current?.status?.replicas ?? 0 };
                if (ready) s.readyReplicas = ready;
                if (available) s.availableReplicas = available;
                if (replicas - available > 0) s.unavailableReplicas = replicas - available;
                const conds = [...(o.status?.conditions ?? [])];
                const maxUnavailable = resolveIntOrPercent(d.spec.strategy?.rollingUpdate?.maxUnavailable ?? "25%", desired, false);
                const ok = available >= desired - maxUnavailable;
                setCondition(
                    conds,
                    {
                        type: "Available",
                        status: ok ? "True" : "False",
                        lastUpdateTime: now,
                        reason: ok ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                        message: ok ? "Deployment has minimum availability." : "Deployment does not have minimum availability.",
                    },
                    now,
                );
                setCondition(
                    conds,
                    {
                        type: "Progressing",
                        status: "True",
                        lastUpdateTime: now,
                        reason: "NewReplicaSetAvailable",
                        message: `ReplicaSet "${current?.metadata.name ?? ""}" has successfully progressed.`,
                    },
                    now,
                );
                // keep lastUpdateTime stable when nothing else changed, to avoid write loops
                const prev = o.status?.conditions ?? [];
                for (const c of conds) {
                    const p = prev.find((x: any) => x.type === c.type);
                    if (p && p.status === c.status && p.reason === c.reason && p.message === c.message) c.lastUpdateTime = p.lastUpdateTime;
                }
                s.conditions = conds;
                o.status = s;
            },
            { subresource: "status" },
        );
    }
}

/** intstr.GetScaledValueFromIntOrPercent. */
export function resolveIntOrPercent(v: number | string, total: number, roundUp: boolean): number {
    if (typeof v === "number") return v;
    const m = String(v).match(/^(\d+)%$/);
    if (!m) return Number(v) || 0;
    const x = (Number(m[1]) * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
}
