// The simulated cluster the planner walks through: which pods run on which node, budget counts, and
// the room left on schedulable nodes. Evicting a pod updates all three; its replacement is placed
// on another node and gives its budgets a healthy pod back once it is Ready.
import type { V1Pod } from "@kubernetes/client-node";
import { BudgetIndex, countsAsHealthy, type Budget, type Recovery } from "./budgets";
import { ClusterCapacity } from "./capacity";
import { podKey, isFinished } from "../drain/filters";
import { podRequests } from "./resources";
import { constraintLabelKeys, isNodeReady, isPodReady } from "./scheduling";
import { Workloads } from "./workloads";
import type { ClusterSnapshot, ResourceAmount } from "./types";

/** A pod as the planner tracks it: a snapshot pod or a simulated replacement. */
export interface SimPod {
    /** "ns/name", or "ns/name (replacement)" for a pod the planner expects a controller to create. */
    key: string;
    pod: V1Pod;
    node: string;
    /** Ready condition; decides the unhealthy-pod eviction rules. */
    podReady: boolean;
    /** Counted in its budgets' currentHealthy. */
    healthy: boolean;
    budgets: Budget[];
    requests: ResourceAmount;
    /** Non-terminal pods hold their requests on the node. */
    holdsResources: boolean;
    /** "Deployment default/web" */
    owner: string;
    /** A controller recreates it after eviction. */
    replaced: boolean;
    /** Set for a snapshot pod that is Pending on its node: it is expected to become Ready. */
    starting?: StartingPod;
}

/** Makes a simulated pod Ready, so each of its budgets has one more healthy pod. */
function becomeReady(sim: SimPod): void {
    sim.podReady = true;
    if (!sim.healthy) {
        sim.healthy = true;
        for (const b of sim.budgets) b.healthy++;
    }
}

/** A replacement created by evicting a pod; a Recovery for its budgets once it runs somewhere. */
export class Replacement implements Recovery {
    recovered = false;
    node = "";
    sim?: SimPod;
    constructor(
        readonly original: SimPod,
        /** Replacements of Ready (or starting) pods are assumed to become Ready; those of unready pods are not. */
        readonly willBeReady: boolean,
    ) {}

    get budgets(): Budget[] {
        return this.original.budgets;
    }

    recover(): void {
        if (this.recovered || !this.sim) return;
        this.recovered = true;
        if (this.willBeReady) becomeReady(this.sim);
    }

    describe(): string {
        return `the replacement for ${this.original.key} is Ready on ${this.node}`;
    }

    label(): string {
        return `replacement for ${this.original.key}`;
    }
}

/**
 * A Pending pod of the snapshot that is already on a node (pulling images, starting containers): it is
 * expected to become Ready, as a replacement would. Pods that run but are not Ready are not expected to
 * recover (they may be crash-looping).
 */
export class StartingPod implements Recovery {
    recovered = false;
    constructor(readonly sim: SimPod) {}

    get budgets(): Budget[] {
        return this.sim.budgets;
    }

    recover(): void {
        if (this.recovered) return;
        this.recovered = true;
        becomeReady(this.sim);
    }

    /** The pod was evicted before it got Ready: it no longer helps its budgets. */
    cancel(): void {
        this.recovered = true;
    }

    describe(): string {
        return `${this.sim.key}, starting on ${this.sim.node}, is Ready`;
    }

    label(): string {
        return `${this.sim.key} (starting)`;
    }
}

function toMillis(t: Date | string | undefined): number {
    if (t === undefined) return Number.NaN;
    return t instanceof Date ? t.getTime() : new Date(t).getTime();
}

/** The budget controller forgets an eviction after 2 minutes; until then the pod is not healthy. */
const DISRUPTED_POD_TIMEOUT_MS = 2 * 60 * 1000;

const RUNNING_READY = { phase: "Running", conditions: [{ type: "Ready", status: "True" }] };
const RUNNING_UNREADY = { phase: "Running", conditions: [{ type: "Ready", status: "False" }] };

/**
 * The pod a controller creates in place of an evicted one: same spec and labels, running on another node.
 * Only the status differs; metadata and spec are shared with the original (nothing here changes them),
 * which keeps a 150,000-pod roll cheap. Its name is shown as "ns/name (replacement)" through SimPod.key.
 */
function replacementPod(pod: V1Pod, ready: boolean): V1Pod {
    return { ...pod, status: ready ? RUNNING_READY : RUNNING_UNREADY };
}

export class RollState {
    readonly now: Date;
    readonly workloads: Workloads;
    readonly budgets: BudgetIndex;
    readonly capacity: ClusterCapacity;
    private readonly podsByNode = new Map<string, SimPod[]>();
    /** Nodes that took pods before the roll; drained nodes come back only if they did. */
    private readonly initiallySchedulable = new Set<string>();
    /** Replacements with no node yet; retried when drained nodes come back. */
    private unplaced: Replacement[] = [];
    /** Why the last placement attempt of a stranded replacement failed. */
    readonly unplacedReason = new Map<Replacement, string>();
    /** Replacements placed (and pods starting) during the current batch; Ready by the time the next batch starts. */
    private inFlight: Recovery[] = [];

    constructor(snapshot: ClusterSnapshot) {
        this.now = new Date(toMillis(snapshot.takenAt) || Date.now());
        this.workloads = new Workloads(snapshot);
        this.budgets = new BudgetIndex(snapshot.podDisruptionBudgets);

        const disrupted = new Map<string, Set<string>>(); // budget key -> recently evicted pod names
        for (const b of this.budgets.all) {
            const names = new Set<string>();
            for (const [name, at] of Object.entries(b.pdb.status?.disruptedPods ?? {})) {
                if (this.now.getTime() - toMillis(at as Date | string) < DISRUPTED_POD_TIMEOUT_MS) names.add(name);
            }
            if (names.size > 0) disrupted.set(b.key, names);
        }

        const selectorKeys = new Set<string>();
        const known = new Set(snapshot.nodes.map((n) => n.metadata?.name ?? ""));
        const placed: SimPod[] = [];
        for (const pod of snapshot.pods) {
            const budgets = this.budgets.matching(pod);
            const name = pod.metadata?.name ?? "";
            const workload = this.workloads.workloadOf(pod);
            for (const b of budgets) b.addSnapshotPod(pod, workload, countsAsHealthy(pod, disrupted.get(b.key)?.has(name) ?? false));
            const node = pod.spec?.nodeName;
            if (!node || !known.has(node)) continue; // unscheduled pods are not on any node we drain
            const replaced = this.workloads.isReplaced(pod);
            if (replaced) for (const k of constraintLabelKeys(pod)) selectorKeys.add(k);
            const sim: SimPod = {
                key: podKey(pod),
                pod,
                node,
                podReady: isPodReady(pod),
                healthy: false,
                budgets,
                requests: podRequests(pod),
                holdsResources: !isFinished(pod),
                owner: this.workloads.describeOwner(pod),
                replaced,
            };
            // Healthy for every budget at once; a pod disrupted for one budget is disrupted for all.
            sim.healthy = budgets.length > 0 && countsAsHealthy(pod, budgets.some((b) => disrupted.get(b.key)?.has(name)));
            if (pod.status?.phase === "Pending" && budgets.length > 0 && !pod.metadata?.deletionTimestamp) {
                sim.starting = new StartingPod(sim);
                for (const b of budgets) b.addPending(sim.starting);
                this.inFlight.push(sim.starting);
            }
            placed.push(sim);
            const list = this.podsByNode.get(node);
            if (list) list.push(sim);
            else this.podsByNode.set(node, [sim]);
        }

        this.capacity = new ClusterCapacity(snapshot.nodes, selectorKeys, (node) => {
            const ok = !node.spec?.unschedulable && isNodeReady(node);
            if (ok) this.initiallySchedulable.add(node.metadata?.name ?? "");
            return ok;
        });
        for (const sim of placed) if (sim.holdsResources) this.capacity.addPod(sim.node, sim.requests);
    }

    podsOn(node: string): SimPod[] {
        return this.podsByNode.get(node) ?? [];
    }

    /** Replaces the list of pods still on a node after its drain. */
    setPodsOn(node: string, pods: SimPod[]): void {
        this.podsByNode.set(node, pods);
    }

    wasSchedulable(node: string): boolean {
        return this.initiallySchedulable.has(node);
    }

    /** Replacements still waiting for a node, for explanations. */
    strandedReplacements(): readonly Replacement[] {
        return this.unplaced;
    }

    /** Start of a batch: its nodes are cordoned. */
    cordon(nodes: string[]): void {
        for (const n of nodes) this.capacity.setSchedulable(n, false);
    }

    /**
     * The pod leaves its node: its requests are freed, its budgets lose a healthy pod, and a controller
     * creates a replacement on the roomiest node that takes it. Returns the replacement (if any).
     */
    evict(sim: SimPod): Replacement | undefined {
        sim.starting?.cancel();
        if (sim.holdsResources) this.capacity.removePod(sim.node, sim.requests);
        if (sim.healthy) {
            sim.healthy = false;
            for (const b of sim.budgets) b.healthy--;
        }
        if (!sim.replaced) {
            for (const b of sim.budgets) b.matchedPods--;
            return undefined;
        }
        const replacement = new Replacement(sim, sim.podReady || !!sim.starting);
        if (!this.place(replacement)) this.unplaced.push(replacement);
        return replacement;
    }

    private place(r: Replacement): boolean {
        const result = this.capacity.place(r.original.pod, r.original.requests);
        if (result.node === null) {
            this.unplacedReason.set(r, result.reason);
            return false;
        }
        this.unplacedReason.delete(r);
        r.node = result.node;
        r.sim = {
            ...r.original,
            key: r.original.key.endsWith(" (replacement)") ? r.original.key : `${r.original.key} (replacement)`,
            pod: replacementPod(r.original.pod, r.willBeReady),
            node: result.node,
            podReady: false,
            healthy: false,
            holdsResources: true,
        };
        const list = this.podsByNode.get(result.node);
        if (list) list.push(r.sim);
        else this.podsByNode.set(result.node, [r.sim]);
        if (r.willBeReady) for (const b of r.sim.budgets) b.addPending(r);
        this.inFlight.push(r);
        return true;
    }

    /**
     * End of a batch: its nodes come back (if they took pods before the roll), stranded replacements
     * get another chance, and every replacement placed so far is Ready before the next batch drains.
     */
    finishBatch(nodes: string[]): void {
        for (const n of nodes) if (this.wasSchedulable(n)) this.capacity.setSchedulable(n, true);
        const stillUnplaced: Replacement[] = [];
        for (const r of this.unplaced) if (!this.place(r)) stillUnplaced.push(r);
        this.unplaced = stillUnplaced;
        const touched = new Set<Budget>();
        for (const r of this.inFlight) {
            r.recover();
            for (const b of r.budgets) touched.add(b);
        }
        this.inFlight = [];
        for (const b of touched) b.compact();
    }
}
