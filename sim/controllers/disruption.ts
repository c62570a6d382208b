// Disruption controller: PodDisruptionBudget status (drain-spec §6).
//
//   expectedPods / desiredHealthy from minAvailable or maxUnavailable (ints use
//   the matched pod count for minAvailable; everything else uses the owners'
//   scale, a ReplicaSet owned by a Deployment counting the Deployment),
//   currentHealthy = Ready pods without deletionTimestamp and not recently
//   disrupted, disruptionsAllowed = max(0, current - desired) (0 if expected<=0),
//   disruptedPods pruned (gone, terminating, or older than 2 minutes),
//   observedGeneration, DisruptionAllowed condition; failSafe on sync errors.
//
// `delaySeconds`/`paused` exist to exercise the "still being processed" 429.

import { resourceByPlural } from "../apiserver/resources";
import { labelSelectorFromSpec, matchLabels } from "../apiserver/selectors";
import type { StoreEvent } from "../apiserver/store";
import { rfc3339 } from "../clock";
import { Controller, controllerRef, isPodReady, nsName, setCondition, splitKey } from "./controller";

const PDBS = resourceByPlural("poddisruptionbudgets")!;
const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

export class DisruptionController extends Controller {
    readonly name = "disruption";
    paused = false;
    private expiryTimers = new Map<string, number>();

    protected resync(): void {
        for (const p of this.ctx.store.list("poddisruptionbudgets")) this.queuePdb(nsName(p));
    }

    /** Queue a PDB, honouring the configured delay. */
    private queuePdb(key: string): void {
        const d = this.ctx.options.disruptionDelaySeconds;
        if (d > 0) this.enqueueAfter(key, d);
        else this.enqueue(key);
    }

    /** Resume after pause: recompute every PDB. */
    resume(): void {
        this.paused = false;
        this.resync();
    }

    protected onEvent(e: StoreEvent): void {
        if (e.resource === "poddisruptionbudgets") {
            // our own status writes do not need another pass unless the spec changed
            if (e.type === "DELETED") return;
            if (
                e.type === "MODIFIED" &&
                e.old &&
                e.old.metadata.generation === e.object.metadata.generation &&
                e.object.status?.observedGeneration === e.object.metadata.generation &&
                JSON.stringify(e.old.metadata.labels) === JSON.stringify(e.object.metadata.labels) &&
                !disruptedChanged(e.old, e.object)
            )
                return;
            this.queuePdb(nsName(e.object));
            return;
        }
        if (e.resource === "pods") {
            const ns = e.object.metadata.namespace;
            for (const pdb of this.ctx.store.list("poddisruptionbudgets", ns)) {
                const m = labelSelectorFromSpec(pdb.spec?.selector);
                if (!m) continue;
                if (matchLabels(m, e.object.metadata.labels) || (e.old && matchLabels(m, e.old.metadata.labels)))
                    this.queuePdb(nsName(pdb));
            }
            return;
        }
        if (e.resource === "replicasets" || e.resource === "deployments" || e.resource === "statefulsets") {
            // scale changes alter expectedPods
            if (e.type === "MODIFIED" && e.old?.spec?.replicas === e.object.spec?.replicas) return;
            for (const pdb of this.ctx.store.list("poddisruptionbudgets", e.object.metadata.namespace)) this.queuePdb(nsName(pdb));
        }
    }

    protected sync(key: string): void {
        if (this.paused) return;
        const [ns, name] = splitKey(key);
        const pdb = this.ctx.registry.tryGet(PDBS, ns, name);
        if (!pdb) return;
        const now = this.ctx.clock.nowMs();
        const nowTs = rfc3339(now);
        const sel = labelSelectorFromSpec(pdb.spec?.selector);
        const pods = sel ? this.ctx.store.list("pods", ns).filter((p) => matchLabels(sel, p.metadata.labels)) : [];

        let expected: number;
        let desired: number;
        try {
            ({ expected, desired } = this.expectedAndDesired(pdb, pods));
        } catch (e) {
            return this.failSafe(pdb, (e as Error).message, nowTs);
        }

        // prune disruptedPods
        const podsByName = new Map(pods.map((p) => [p.metadata.name, p]));
        const disrupted: Record<string, string> = {};
        let nextExpiry = Infinity;
        for (const [podName, ts] of Object.entries<string>(pdb.status?.disruptedPods ?? {})) {
            const p = podsByName.get(podName);
            if (!p || p.metadata.deletionTimestamp) continue;
            const expiry = Date.parse(ts) + DELETION_TIMEOUT_MS;
            if (expiry < now) {
                this.ctx.events.record(
                    p,
                    "Warning",
                    "NotDeleted",
                    `Pod was expected by PDB ${ns}/${name} to be deleted but it wasn't`,
                    "controllermanager",
                );
                continue;
            }
            disrupted[podName] = ts;
            nextExpiry = Math.min(nextExpiry, expiry);
        }
        if (nextExpiry < Infinity) this.armExpiry(key, nextExpiry);

        let current = 0;
        for (const p of pods) {
            if (p.metadata.deletionTimestamp) continue;
            if (disrupted[p.metadata.name]) continue;
            if (isPodReady(p)) current++;
        }
        const allowed = expected <= 0 || current - desired <= 0 ? 0 : current - desired;
        this.ctx.registry.mutate(
            PDBS,
            ns,
            name,
            (o) => {
                const conds = [...(o.status?.conditions ?? [])];
                setCondition(
                    conds,
                    {
                        type: "DisruptionAllowed",
                        status: allowed > 0 ? "True" : "False",
                        reason: allowed > 0 ? "SufficientPods" : "InsufficientPods",
                        message: "",
                        observedGeneration: pdb.metadata.generation,
                    },
                    nowTs,
                );
                o.status = {
                    ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
                    disruptionsAllowed: allowed,
                    currentHealthy: current,
                    desiredHealthy: desired,
                    expectedPods: expected,
                    observedGeneration: pdb.metadata.generation,
                    conditions: conds,
                };
            },
            { subresource: "status" },
        );
    }

    private armExpiry(key: string, atMs: number): void {
        this.ctx.clock.clearTimeout(this.expiryTimers.get(key));
        this.expiryTimers.set(
            key,
            this.ctx.clock.setTimeoutAt(() => {
                this.expiryTimers.delete(key);
                this.enqueue(key);
            }, atMs + 1),
        );
    }

    private failSafe(pdb: any, message: string, nowTs: string): void {
        this.ctx.registry.mutate(
            PDBS,
            pdb.metadata.namespace,
            pdb.metadata.name,
            (o) => {
                o.status ??= {};
                o.status.disruptionsAllowed = 0;
                const conds = (o.status.conditions ??= []);
                setCondition(
                    conds,
                    {
                        type: "DisruptionAllowed",
                        status: "False",
                        reason: "SyncFailed",
                        message,
                        observedGeneration: pdb.metadata.generation,
                    },
                    nowTs,
                );
            },
            { subresource: "status" },
        );
    }

    private expectedAndDesired(pdb: any, pods: any[]): { expected: number; desired: number } {
        const min = pdb.spec?.minAvailable;
        const max = pdb.spec?.maxUnavailable;
        if (min !== undefined && typeof min === "number") return { expected: pods.length, desired: min };
        if (min === undefined && max === undefined) return { expected: 0, desired: 0 };
        const expected = this.expectedScale(pods);
        if (max !== undefined) {
            const m = typeof max === "number" ? max : percent(max, expected);
            return { expected, desired: Math.max(0, expected - m) };
        }
        return { expected, desired: percent(min, expected) };
    }

    /** Σ of the replicas of the pods' controllers, each counted once. */
    private expectedScale(pods: any[]): number {
        const counted = new Set<string>();
        let sum = 0;
        for (const p of pods) {
            const ref = controllerRef(p);
            if (!ref) continue; // unmanaged pods are skipped (UnmanagedPods event in the real controller)
            const ns = p.metadata.namespace;
            let owner: any;
            if (ref.kind === "ReplicaSet") {
                const rs = this.ctx.store.get("replicasets", ns, ref.name);
                if (rs && rs.metadata.uid === ref.uid) {
                    const dref = controllerRef(rs);
                    const d = dref?.kind === "Deployment" ? this.ctx.store.get("deployments", ns, dref.name) : undefined;
                    owner = d && d.metadata.uid === dref.uid ? d : rs;
                }
            } else if (ref.kind === "StatefulSet") {
                const s = this.ctx.store.get("statefulsets", ns, ref.name);
                if (s && s.metadata.uid === ref.uid) owner = s;
            } else if (ref.kind === "Deployment") {
                const d = this.ctx.store.get("deployments", ns, ref.name);
                if (d && d.metadata.uid === ref.uid) owner = d;
            }
            if (!owner) throw new Error(`found no controllers for pod "${p.metadata.name}"`);
            if (counted.has(owner.metadata.uid)) continue;
            counted.add(owner.metadata.uid);
            sum += owner.spec?.replicas ?? 1;
        }
        return sum;
    }
}

function percent(v: any, total: number): number {
    const m = String(v).match(/^(\d+)%$/);
    if (!m) throw new Error("invalid value for IntOrString: invalid type: string is not a percentage");
    return Math.ceil((Number(m[1]) * total) / 100);
}

function disruptedChanged(a: any, b: any): boolean {
    return JSON.stringify(a.status?.disruptedPods ?? {}) !== JSON.stringify(b.status?.disruptedPods ?? {});
}
