// Garbage collector (background propagation only): when an owner is deleted,
// dependents whose owners are all gone are deleted too (Deployment → its
// ReplicaSets → their pods). Orphan propagation is handled at delete time by
// the API server, which strips the ownerReference first.

import { resourceByPlural } from "../apiserver/resources";
import type { StoreEvent } from "../apiserver/store";
import { Controller } from "./controller";

export class GarbageCollector extends Controller {
    readonly name = "garbage-collector";

    protected onEvent(e: StoreEvent): void {
        if (e.type === "DELETED" && e.object.metadata?.uid) this.enqueue(e.object.metadata.uid);
    }

    protected sync(ownerUid: string): void {
        for (const { resource, object } of this.ctx.store.ownedBy(ownerUid)) {
            const owners: any[] = object.metadata.ownerReferences ?? [];
            const alive = owners.some((ref) => ref.uid !== ownerUid && this.ownerExists(ref, object.metadata.namespace));
            if (alive || object.metadata.deletionTimestamp) continue;
            const r = resourceByPlural(resource);
            if (!r) continue;
            try {
                this.ctx.registry.delete(r, object.metadata.namespace, object.metadata.name);
            } catch {
                /* gone */
            }
        }
    }

    private ownerExists(ref: any, namespace: string | undefined): boolean {
        for (const plural of ["deployments", "replicasets", "statefulsets", "daemonsets", "nodes", "namespaces", "pods"]) {
            const r = resourceByPlural(plural)!;
            if (r.kind !== ref.kind) continue;
            const o = this.ctx.store.get(plural, r.namespaced ? namespace : undefined, ref.name);
            return !!o && o.metadata.uid === ref.uid;
        }
        return true; // unknown owner kinds are assumed to exist
    }
}
