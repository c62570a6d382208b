// The exact budget audit: subscribes to every change of the simulated cluster's store (sim.subscribe calls it
// synchronously, for every write, before anything else can happen) and checks each PodDisruptionBudget against
// the state right after that change. Nothing is sampled on a timer, so no dip can fall between two samples.
import type { SimCluster, StoreEvent } from "../../sim";

const isReady = (p: any) => (p?.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
const alive = (p: any) => !!p && !p.metadata?.deletionTimestamp;
const isDaemonSetPod = (p: any) => (p.metadata?.ownerReferences ?? []).some((o: any) => o.kind === "DaemonSet");

export function selectorMatches(selector: any, labels: Record<string, string> | undefined): boolean {
    if (!selector) return false; // a null selector matches nothing (policy/v1)
    const l = labels ?? {};
    for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
    for (const e of selector.matchExpressions ?? []) {
        const has = e.key in l;
        if (e.operator === "In" && !(has && e.values.includes(l[e.key]))) return false;
        if (e.operator === "NotIn" && has && e.values.includes(l[e.key])) return false;
        if (e.operator === "Exists" && !has) return false;
        if (e.operator === "DoesNotExist" && has) return false;
    }
    return true;
}

/** An independent reading of a budget (drain-spec §6.1): how many matching pods must stay healthy. */
export function desiredHealthy(pdb: any, expected: number, matching: number): number {
    const scaled = (v: number | string, base: number, up: boolean) => {
        if (typeof v === "number") return v;
        const pct = Number(String(v).replace(/%$/, ""));
        return up ? Math.ceil((pct * base) / 100) : Math.floor((pct * base) / 100);
    };
    const s = pdb.spec ?? {};
    if (s.minAvailable !== undefined) return typeof s.minAvailable === "number" ? s.minAvailable : scaled(s.minAvailable, expected, true);
    if (s.maxUnavailable !== undefined)
        return Math.max(
            0,
            expected -
                (typeof s.maxUnavailable === "number"
                    ? s.maxUnavailable
                    : Math.ceil((Number(String(s.maxUnavailable).replace(/%$/, "")) * expected) / 100)),
        );
    return matching; // neither set: nothing may be disrupted
}

export interface Disruption {
    pod: string;
    node: string;
    /** Budget verdicts at that moment: "ns/pdb healthy=N desired=M". */
    budgets: string[];
}

/** What the audit saw of one budget over all the changes it checked. */
export interface BudgetFloor {
    /** healthy pods the budget needed (at the change where the fewest were healthy) */
    desired: number;
    /** the fewest healthy pods right after any change */
    minHealthy: number;
    /** how many changes it was checked after */
    checks: number;
}

/**
 * Watches the simulated cluster's store synchronously (every write, as it happens):
 *  - after every change of a pod, a budget, a Deployment or a StatefulSet, every budget that the change can
 *    affect is checked: its healthy (Ready, not terminating) pods must not be fewer than it needs
 *    (`belowBudget`, and per budget the lowest point in `floors`);
 *  - every healthy pod that starts terminating (an accepted eviction) is recorded with each budget that selects
 *    it, and checked: the healthy pods left must still satisfy the budget (`disruptions`, `violations`);
 *  - every pod bound to a node is checked: the node must be schedulable (a replacement never lands on the
 *    node being drained), unless it is a DaemonSet pod (`badBindings`).
 * The state the audit starts from is checked too.
 */
export class BudgetInvariants {
    readonly disruptions: Disruption[] = [];
    readonly violations: string[] = [];
    readonly badBindings: string[] = [];
    /** Every change after which a budget had fewer healthy pods than it needs. */
    readonly belowBudget: string[] = [];
    /** Per budget ("ns/name"): its lowest point. */
    readonly floors = new Map<string, BudgetFloor>();
    /** Store changes seen (of any kind). */
    changes = 0;
    private readonly unsubscribe: () => void;

    constructor(protected readonly sim: SimCluster) {
        for (const pdb of sim.list("PodDisruptionBudget")) this.checkBudget(pdb, "at the start");
        this.unsubscribe = sim.subscribe((e) => this.onEvent(e));
    }

    stop(): void {
        this.unsubscribe();
    }

    /** The floors as a plain object, for assertions: { "ns/name": { desired, minHealthy } }. */
    floorsSeen(): Record<string, { desired: number; minHealthy: number }> {
        const out: Record<string, { desired: number; minHealthy: number }> = {};
        for (const [k, f] of this.floors) out[k] = { desired: f.desired, minHealthy: f.minHealthy };
        return out;
    }

    /** Budget checks made so far (one budget after one change). */
    checks(): number {
        let n = 0;
        for (const f of this.floors.values()) n += f.checks;
        return n;
    }

    private onEvent(e: StoreEvent): void {
        this.changes++;
        const ns = e.object?.metadata?.namespace;
        if (e.resource === "pods") {
            const before = e.old;
            const now = e.type === "DELETED" ? undefined : e.object;
            if (before && alive(before) && !alive(now)) this.onDisruption(before);
            if (before && now && !before.spec?.nodeName && now.spec?.nodeName) {
                const node = this.sim.get("Node", undefined, now.spec.nodeName);
                if (node?.spec?.unschedulable && !isDaemonSetPod(now))
                    this.badBindings.push(`${now.metadata.namespace}/${now.metadata.name} bound to cordoned node ${now.spec.nodeName}`);
            }
            const labels = [before?.metadata?.labels, e.object?.metadata?.labels];
            for (const pdb of this.sim.list("PodDisruptionBudget", ns)) {
                if (labels.some((l) => l && selectorMatches(pdb.spec?.selector, l))) this.checkBudget(pdb, describe(e));
            }
        } else if (e.resource === "poddisruptionbudgets" || e.resource === "deployments" || e.resource === "statefulsets") {
            for (const pdb of this.sim.list("PodDisruptionBudget", ns)) this.checkBudget(pdb, describe(e));
        }
    }

    private budgetNow(pdb: any): { healthy: number; desired: number } {
        const ns = pdb.metadata.namespace;
        const matching = this.sim.list("Pod", ns).filter((p) => selectorMatches(pdb.spec?.selector, p.metadata.labels));
        const healthy = matching.filter((p) => alive(p) && isReady(p)).length;
        const expected = [...this.sim.list("Deployment", ns), ...this.sim.list("StatefulSet", ns)]
            .filter((w) => selectorMatches(pdb.spec?.selector, w.spec?.template?.metadata?.labels))
            .reduce((n, w) => n + (w.spec?.replicas ?? 1), 0);
        return { healthy, desired: desiredHealthy(pdb, expected, matching.length) };
    }

    private checkBudget(pdb: any, after: string): void {
        const key = `${pdb.metadata.namespace}/${pdb.metadata.name}`;
        const { healthy, desired } = this.budgetNow(pdb);
        const f = this.floors.get(key);
        if (!f) this.floors.set(key, { desired, minHealthy: healthy, checks: 1 });
        else {
            f.checks++;
            if (healthy < f.minHealthy || (healthy === f.minHealthy && desired > f.desired))
                Object.assign(f, { desired, minHealthy: healthy });
        }
        if (healthy < desired) this.belowBudget.push(`${key}: ${healthy} healthy pods, needs ${desired} (after ${after})`);
    }

    private onDisruption(pod: any): void {
        const ns = pod.metadata.namespace;
        const d: Disruption = { pod: `${ns}/${pod.metadata.name}`, node: pod.spec?.nodeName ?? "", budgets: [] };
        this.disruptions.push(d);
        if (!isReady(pod)) return; // an unhealthy pod does not count against a budget
        for (const pdb of this.sim.list("PodDisruptionBudget", ns)) {
            if (!selectorMatches(pdb.spec?.selector, pod.metadata.labels)) continue;
            const { healthy, desired } = this.budgetNow(pdb);
            d.budgets.push(`${ns}/${pdb.metadata.name} healthy=${healthy} desired=${desired}`);
            if (healthy < desired) {
                this.violations.push(
                    `${d.pod} on ${d.node} went away leaving ${healthy} healthy pods of budget ${ns}/${pdb.metadata.name}, which needs ${desired}`,
                );
            }
        }
    }

    /** Replicas missing now in `namespace`: Σ over Deployments and StatefulSets of spec.replicas − Ready pods. */
    missingReplicas(namespace: string): { total: number; detail: string[] } {
        const detail: string[] = [];
        let total = 0;
        const pods = this.sim.list("Pod", namespace).filter((p) => alive(p) && isReady(p));
        for (const w of [...this.sim.list("Deployment", namespace), ...this.sim.list("StatefulSet", namespace)]) {
            const ready = pods.filter((p) => selectorMatches(w.spec.selector, p.metadata.labels)).length;
            const want = w.spec.replicas ?? 1;
            if (ready < want) {
                total += want - ready;
                detail.push(`${w.kind} ${w.metadata.name}: ${ready}/${want} Ready`);
            }
        }
        return { total, detail };
    }
}

function describe(e: StoreEvent): string {
    const o = e.object;
    const what = `${e.resource} ${o?.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o?.metadata?.name}`;
    if (e.resource !== "pods" || e.type !== "MODIFIED") return `${e.type} ${what}`;
    if (alive(e.old) && !alive(o)) return `${what} started terminating`;
    if (isReady(e.old) && !isReady(o)) return `${what} became unready`;
    return `MODIFIED ${what}`;
}
