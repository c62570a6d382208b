// Namespace lifecycle: a namespace being deleted is in phase Terminating (the
// API server then refuses creates and evictions in it with 403). This
// controller deletes its content (pods gracefully) and removes the namespace
// once it is empty and only the "kubernetes" finalizer is left.
// Knob: sim.node-upgrade.dev/cleanup-delay-seconds on the namespace delays the
// content deletion (so tests can watch evictions being refused meanwhile).

import { RESOURCES, resourceByPlural } from "../apiserver/resources";
import type { StoreEvent } from "../apiserver/store";
import { Controller, knobSeconds } from "./controller";

const NAMESPACES = resourceByPlural("namespaces")!;

export class NamespaceController extends Controller {
    readonly name = "namespace";
    private cleanupStarted = new Set<string>();

    protected resync(): void {
        for (const ns of this.ctx.store.list("namespaces")) if (ns.status?.phase === "Terminating") this.enqueue(ns.metadata.name);
    }

    protected onEvent(e: StoreEvent): void {
        if (e.resource === "namespaces") {
            if (e.type !== "DELETED" && e.object.status?.phase === "Terminating") this.enqueue(e.object.metadata.name);
            if (e.type === "DELETED") this.cleanupStarted.delete(e.object.metadata.name);
            return;
        }
        const ns = e.object.metadata?.namespace;
        if (e.type === "DELETED" && ns && this.cleanupStarted.has(ns)) this.enqueue(ns);
    }

    protected sync(name: string): void {
        const ns = this.ctx.registry.tryGet(NAMESPACES, undefined, name);
        if (!ns || ns.status?.phase !== "Terminating") return;
        if (!this.cleanupStarted.has(name)) {
            const delay = knobSeconds(ns, "cleanup-delay-seconds") ?? 0;
            const since = (this.ctx.clock.nowMs() - Date.parse(ns.metadata.deletionTimestamp ?? ns.metadata.creationTimestamp)) / 1000;
            if (since < delay) {
                this.enqueueAfter(name, delay - since);
                return;
            }
            this.cleanupStarted.add(name);
        }
        let remaining = 0;
        for (const r of RESOURCES) {
            if (!r.namespaced) continue;
            for (const o of this.ctx.store.list(r.plural, name)) {
                remaining++;
                if (o.metadata.deletionTimestamp) continue;
                try {
                    this.ctx.registry.delete(r, name, o.metadata.name);
                } catch {
                    /* gone */
                }
            }
        }
        // re-count: immediate deletions are already gone
        remaining = RESOURCES.filter((r) => r.namespaced).reduce((a, r) => a + this.ctx.store.list(r.plural, name).length, 0);
        if (remaining > 0) return; // woken again by the DELETED events
        const finalizers: string[] = (ns.spec?.finalizers ?? []).filter((f: string) => f !== "kubernetes");
        if (finalizers.length) {
            this.ctx.registry.mutate(NAMESPACES, undefined, name, (o) => {
                o.spec.finalizers = finalizers;
            });
            return;
        }
        if ((ns.metadata.finalizers ?? []).length) return;
        this.ctx.store.remove("namespaces", undefined, name);
    }
}
