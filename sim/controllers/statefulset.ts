// StatefulSet controller: pods <sts>-0 .. <sts>-(n-1). A deleted pod comes back
// with the SAME name and a NEW UID, but only after the old object is gone.
// OrderedReady (the default) creates one missing pod at a time and waits for
// lower ordinals to be Ready; Parallel creates them all.

import { resourceByPlural } from "../apiserver/resources";
import type { StoreEvent } from "../apiserver/store";
import { Controller, controllerRef, isPodActive, isPodReady, nsName, splitKey } from "./controller";
import { podTemplateHash } from "./deployment";
import { podFromTemplate } from "./replicaset";

const STS = resourceByPlural("statefulsets")!;
const PODS = resourceByPlural("pods")!;

export class StatefulSetController extends Controller {
    readonly name = "statefulset";

    protected resync(): void {
        for (const s of this.ctx.store.list("statefulsets")) this.enqueue(nsName(s));
    }

    protected onEvent(e: StoreEvent): void {
        if (e.resource === "statefulsets") {
            if (e.type !== "DELETED") this.enqueue(nsName(e.object));
        } else if (e.resource === "pods") {
            const ref = controllerRef(e.object) ?? controllerRef(e.old);
            if (ref?.kind === "StatefulSet") this.enqueue(`${e.object.metadata.namespace}/${ref.name}`);
        }
    }

    protected sync(key: string): void {
        const [ns, name] = splitKey(key);
        const sts = this.ctx.registry.tryGet(STS, ns, name);
        if (!sts || sts.metadata.deletionTimestamp) return;
        const replicas = sts.spec?.replicas ?? 1;
        const ordered = (sts.spec?.podManagementPolicy ?? "OrderedReady") === "OrderedReady";
        const revision = `${name}-${podTemplateHash(sts.spec?.template)}`;
        for (let i = 0; i < replicas; i++) {
            const podName = `${name}-${i}`;
            const pod = this.ctx.registry.tryGet(PODS, ns, podName);
            if (!pod) {
                try {
                    this.ctx.registry.create(
                        PODS,
                        ns,
                        podFromTemplate(sts.spec.template, sts, podName, {
                            "controller-revision-hash": revision,
                            "statefulset.kubernetes.io/pod-name": podName,
                            "apps.kubernetes.io/pod-index": String(i),
                        }),
                    );
                    this.ctx.events.record(
                        sts,
                        "Normal",
                        "SuccessfulCreate",
                        `create Pod ${podName} in StatefulSet ${name} successful`,
                        "statefulset-controller",
                    );
                } catch (e) {
                    this.errors.push(`create ${podName}: ${(e as Error).message}`);
                    break;
                }
                if (ordered) break;
                continue;
            }
            if (controllerRef(pod)?.uid !== sts.metadata.uid) continue;
            if (ordered && (!isPodActive(pod) || !isPodReady(pod))) break;
        }
        // scale down: highest ordinal first
        const owned = this.ctx.store.ownedBy(sts.metadata.uid, "pods").map((x) => x.object);
        const extra = owned
            .filter((p) => isPodActive(p) && ordinal(p.metadata.name, name) >= replicas)
            .sort((a, b) => ordinal(b.metadata.name, name) - ordinal(a.metadata.name, name));
        for (const p of ordered ? extra.slice(0, 1) : extra) {
            try {
                this.ctx.registry.delete(PODS, ns, p.metadata.name);
                this.ctx.events.record(
                    sts,
                    "Normal",
                    "SuccessfulDelete",
                    `delete Pod ${p.metadata.name} in StatefulSet ${name} successful`,
                    "statefulset-controller",
                );
            } catch {
                /* gone */
            }
        }
        const pods = this.ctx.store
            .ownedBy(sts.metadata.uid, "pods")
            .map((x) => x.object)
            .filter(isPodActive);
        const ready = pods.filter(isPodReady).length;
        this.ctx.registry.mutate(
            STS,
            ns,
            name,
            (o) => {
                o.status = {
                    ...(o.status ?? {}),
                    observedGeneration: sts.metadata.generation,
                    replicas: pods.length,
                    readyReplicas: ready,
                    currentReplicas: pods.length,
                    updatedReplicas: pods.length,
                    availableReplicas: ready,
                    currentRevision: revision,
                    updateRevision: revision,
                    collisionCount: 0,
                };
            },
            { subresource: "status" },
        );
    }
}

function ordinal(podName: string, stsName: string): number {
    const s = podName.slice(stsName.length + 1);
    return /^\d+$/.test(s) ? Number(s) : -1;
}
