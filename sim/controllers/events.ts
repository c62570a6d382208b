// Writes core/v1 Events like the real components do (Scheduled, Killing,
// NodeNotReady, ...). The number kept is capped so long runs stay small.

import type { SimClock } from "../clock";
import type { Prng } from "../random";
import type { Registry } from "../apiserver/registry";
import { resourceByPlural } from "../apiserver/resources";

const EVENTS = resourceByPlural("events")!;

export class EventRecorder {
    private names: string[] = [];
    enabled = true;

    constructor(
        private readonly registry: Registry,
        private readonly clock: SimClock,
        private readonly rng: Prng,
        private readonly max = 2000,
    ) {}

    record(involved: any, type: "Normal" | "Warning", reason: string, message: string, component: string, host?: string): void {
        if (!this.enabled) return;
        const ns = involved.metadata.namespace ?? "default";
        if (!this.registry.store.get("namespaces", undefined, ns)) return;
        const now = this.clock.nowRfc3339();
        const name = `${involved.metadata.name}.${this.rng.hex(16)}`;
        try {
            this.registry.create(EVENTS, ns, {
                metadata: { name, namespace: ns },
                involvedObject: {
                    kind: involved.kind,
                    namespace: involved.metadata.namespace,
                    name: involved.metadata.name,
                    uid: involved.metadata.uid,
                    apiVersion: involved.apiVersion,
                    resourceVersion: involved.metadata.resourceVersion,
                },
                reason,
                message,
                type,
                source: host ? { component, host } : { component },
                firstTimestamp: now,
                lastTimestamp: now,
                count: 1,
                reportingComponent: component,
                reportingInstance: host ?? "",
            });
        } catch {
            return;
        }
        this.names.push(`${ns}/${name}`);
        while (this.names.length > this.max) {
            const old = this.names.shift()!;
            const [ons, oname] = old.split("/");
            try {
                this.registry.delete(EVENTS, ons, oname);
            } catch {
                /* already gone */
            }
        }
    }
}
