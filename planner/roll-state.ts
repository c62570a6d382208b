// The simulated cluster the planner walks through: which pods run on which node, budget counts, Ready
// replicas per controller, and the room left on schedulable nodes. Evicting a pod updates all of them; its
// replacement is placed on another node (capacity.ts) and gives its budgets and its controller a Ready pod
// back once it has started.
import type { V1Pod } from "@kubernetes/client-node";
import { BudgetIndex, type Budget } from "./budgets";
import { ClusterCapacity, type PlacementClass, type PodsPerNode } from "./capacity";
import { listingOrder } from "./listing-order";
import { classifyPod, type DrainOptions, type PodVerdict } from "../drain";
import { Workloads, type Workload } from "./workloads";
import type { ClusterSnapshot } from "./types";
import {
    controllerOf,
    countsAsHealthy,
    podKey,
    isFinished,
    type CompiledSelector,
    podRequests,
    constraintLabelKeys,
    isNodeReady,
    isPodReady,
    type ResourceAmount,
} from "../kube-rules";

/** One controller (a ReplicaSet, StatefulSet, ...) of pods that get replaced: what spreading and pacing count. */
export interface ControllerState {
    /** Its Ready pods, as the drain's workload pacing counts them (not terminating, not being evicted). */
    ready: number;
    /** Its pods per node (capacity.ts keeps it up to date). */
    podsPerNode: PodsPerNode;
    /** Where its new pods may run (its template's taints and selectors), found at its first placement. */
    placement?: PlacementClass;
    /** It recreates an evicted pod under the same name (a StatefulSet); others give new pods new names. */
    keepsNames: boolean;
}

/**
 * A pod that will make its budgets (and its controller) healthier once it is Ready: a replacement the planner
 * placed, or a pod of the snapshot that is still starting.
 */
export interface Recovery {
    recovered: boolean;
    readonly budgets: Budget[];
    readonly controller: ControllerState | undefined;
    /** Makes the pod Ready (no-op when already done or cancelled). */
    recover(): void;
    /** "the new pod replacing ns/x is Ready on w3" */
    describe(): string;
    /** "the new pod replacing ns/x" */
    label(): string;
}

/**
 * A pod as the planner tracks it: a snapshot pod, or one a controller creates during the roll. An evicted pod's
 * object becomes its replacement (the pod it was is gone, and the copy has the same spec, budgets and
 * controller), so a 450,000-pod roll allocates no second object per eviction; while it waits to be Ready
 * somewhere it is a Recovery. One class, every field set in the constructor: the hot loops see one shape.
 */
export class SimPod implements Recovery {
    /** Counted in its budgets' currentHealthy. */
    healthy = false;
    /** One of its controller's Ready pods. */
    countsReady = false;
    /** Set for a snapshot pod that is Pending on its node: it is expected to become Ready. */
    starting: StartingPod | undefined = undefined;
    /** As a replacement: Ready already (or not expected to be). */
    recovered = true;
    /** As a replacement: it will be Ready (it replaces a Ready or starting pod). */
    willBeReady = false;

    constructor(
        /** "ns/name"; undefined for a pod created during the roll with a name unknown yet (see key). */
        private name: string | undefined,
        readonly pod: V1Pod,
        /** "" while a replacement has no node. */
        public node: string,
        /** Ready condition; decides the unhealthy-pod eviction rules. */
        public podReady: boolean,
        readonly budgets: Budget[],
        readonly requests: ResourceAmount,
        /** Non-terminal pods hold their requests on the node. */
        public holdsResources: boolean,
        /** "Deployment default/web" */
        readonly owner: string,
        /** Its controller, when one recreates it after eviction: spreading and pacing go by it. */
        readonly controller: ControllerState | undefined,
        /** Position in the API's listing of pods (see listing-order.ts); a copy sorts where its original did. */
        readonly rank: number,
        /**
         * What the drain does with it: kubectl's filter verdict under the plan's drain options ("not matched by
         * --pod-selector" included). Decided once, while the pod is read anyway; a copy has its original's.
         */
        readonly verdict: PodVerdict,
        /** Why no budget applies to its eviction (Pending, finished, terminating), if so. */
        public bypass: string | undefined,
    ) {}

    /** A controller recreates it after eviction. */
    get replaced(): boolean {
        return this.controller !== undefined;
    }

    /** For a pod created during the roll: the snapshot pod it stands in for (its chain of replacements started there). */
    replaces: string | undefined = undefined;

    /** Created during the roll: Running, not terminating, whatever the snapshot pod it copies was. */
    get created(): boolean {
        return this.replaces !== undefined;
    }

    /**
     * "ns/name"; for a pod created during the roll under a name unknown yet, "a new default/http-go pod (replacing
     * default/http-go-568f649bb-n7w9l)". Built on first use: most replacements are never shown.
     */
    get key(): string {
        return (this.name ??= `a new ${this.owner.slice(this.owner.indexOf(" ") + 1)} pod (replacing ${this.replaces})`);
    }

    /** The evicted pod comes back as its controller's new pod, not placed yet; a StatefulSet keeps the name. */
    becomeReplacement(): void {
        const root = this.replaces ?? this.key;
        this.willBeReady = this.podReady || !!this.starting;
        this.starting = undefined;
        this.name = this.controller!.keepsNames ? root : undefined;
        this.replaces = root;
        this.node = "";
        this.podReady = false;
        this.holdsResources = true;
        this.recovered = true;
        this.bypass = undefined; // Running, and not terminating
    }

    recover(): void {
        if (this.recovered) return;
        this.recovered = true;
        if (this.willBeReady) becomeReady(this);
    }

    describe(): string {
        return `${this.label()} is Ready on ${this.node}`;
    }

    label(): string {
        return this.key === this.replaces ? `${this.key}, recreated,` : `the new pod replacing ${this.replaces}`;
    }
}

/** Makes a simulated pod Ready: each of its budgets, and its controller, has one more Ready pod. */
function becomeReady(sim: SimPod): void {
    sim.podReady = true;
    if (!sim.healthy && sim.budgets.length > 0) {
        sim.healthy = true;
        for (const b of sim.budgets) b.healthy++;
    }
    if (sim.controller && !sim.countsReady) {
        sim.countsReady = true;
        sim.controller.ready++;
    }
}

/** A StatefulSet recreates an evicted pod under its name; other controllers give it a new one. */
function keepsName(pod: V1Pod): boolean {
    return controllerOf(pod)?.kind === "StatefulSet";
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

    get controller(): ControllerState | undefined {
        return this.sim.controller;
    }

    recover(): void {
        if (this.recovered) return;
        this.recovered = true;
        becomeReady(this.sim);
    }

    /** The pod was evicted before it got Ready: it no longer helps. */
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

/** Pods the API server deletes without looking at any budget (canIgnorePDB). */
function bypassReason(pod: V1Pod): string | undefined {
    const phase = pod.status?.phase;
    if (phase === "Pending") return "Pending: budgets do not apply";
    if (isFinished(pod)) return `${phase}: budgets do not apply`;
    if (pod.metadata?.deletionTimestamp) return "already terminating: budgets do not apply";
    return undefined;
}

const NOT_SELECTED: PodVerdict = Object.freeze({ action: "skip", reason: "not matched by --pod-selector" });
const EVICT: PodVerdict = Object.freeze({ action: "evict" });

/**
 * Each pod's position in the API's listing. A snapshot read from the API is in that order already (one pass
 * checks it); anything else is sorted once.
 */
function listingRanks(pods: V1Pod[]): Map<V1Pod, number> | undefined {
    for (let i = 1; i < pods.length; i++) {
        if (listingOrder(pods[i - 1], pods[i]) > 0) return new Map([...pods].sort(listingOrder).map((p, rank) => [p, rank]));
    }
    return undefined; // the index in the snapshot is the rank
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
    private unplaced: SimPod[] = [];
    /** Why the last placement attempt of a stranded replacement failed. */
    readonly unplacedReason = new Map<SimPod, string>();
    /** Replacements placed (and pods starting) and not Ready yet; all are by the time the next batch starts. */
    private inFlight: Recovery[] = [];

    constructor(snapshot: ClusterSnapshot, drain: DrainOptions = {}, podSelector?: CompiledSelector) {
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
        const recentlyDisrupted = (budgets: Budget[], name: string) => {
            for (const b of budgets) if (disrupted.get(b.key)?.has(name)) return true;
            return false;
        };

        // Nodes are grouped by the labels replaceable pods select on (capacity.ts), so those come first.
        const selectorKeys = new Set<string>();
        for (const pod of snapshot.pods) {
            if ((pod.spec?.nodeSelector || pod.spec?.affinity?.nodeAffinity) && this.workloads.isReplaced(pod)) {
                for (const k of constraintLabelKeys(pod)) selectorKeys.add(k);
            }
        }
        this.capacity = new ClusterCapacity(snapshot.nodes, selectorKeys);

        const filterContext = { now: this.now, daemonSetExists: (ns: string, name: string) => this.workloads.daemonSetExists(ns, name) };
        const verdictOf = (pod: V1Pod): PodVerdict => {
            // kubectl lists only the pods --pod-selector matches; the rest stay, for that reason first.
            if (podSelector && !podSelector.matches(pod.metadata?.labels)) return NOT_SELECTED;
            const v = classifyPod(pod, drain, filterContext);
            return v.action === "evict" && !v.warning ? EVICT : v;
        };
        for (const n of snapshot.nodes) this.podsByNode.set(n.metadata?.name ?? "", []);
        const ranks = listingRanks(snapshot.pods);
        /** What pods of one controller share, looked up once per controller rather than once per pod. */
        const byController = new Map<string, { workload: Workload | undefined; owner: string; state: ControllerState }>();
        for (let index = 0; index < snapshot.pods.length; index++) {
            const pod = snapshot.pods[index];
            const controllerKey = this.workloads.controllerKey(pod);
            let facts = controllerKey === undefined ? undefined : byController.get(controllerKey);
            if (controllerKey !== undefined && !facts) {
                const workload = this.workloads.workloadOf(pod);
                facts = {
                    workload,
                    owner: workload?.description ?? "no controller",
                    state: { ready: 0, podsPerNode: new Map(), keepsNames: keepsName(pod) },
                };
                byController.set(controllerKey, facts);
            }
            const budgets = this.budgets.matching(pod);
            const name = pod.metadata?.name ?? "";
            for (const b of budgets) b.addSnapshotPod(pod, facts?.workload, countsAsHealthy(pod, disrupted.get(b.key)?.has(name) ?? false));
            const node = pod.spec?.nodeName;
            const list = node ? this.podsByNode.get(node) : undefined;
            if (!node || !list) continue; // unscheduled pods are not on any node we drain
            const replaced = this.workloads.isReplaced(pod);
            const podReady = isPodReady(pod);
            const controller = replaced ? facts?.state : undefined;
            const rank = ranks ? ranks.get(pod)! : index;
            const owner = facts?.owner ?? "no controller";
            const sim = new SimPod(
                podKey(pod),
                pod,
                node,
                podReady,
                budgets,
                podRequests(pod),
                !isFinished(pod),
                owner,
                controller,
                rank,
                verdictOf(pod),
                bypassReason(pod),
            );
            // Replaced pods are neither finished nor terminating, so the Ready ones count for their controller.
            if (controller && podReady) {
                sim.countsReady = true;
                controller.ready++;
            }
            // Healthy for every budget at once; a pod disrupted for one budget is disrupted for all.
            sim.healthy = budgets.length > 0 && countsAsHealthy(pod, recentlyDisrupted(budgets, name));
            if (pod.status?.phase === "Pending" && (budgets.length > 0 || controller) && !pod.metadata?.deletionTimestamp) {
                sim.starting = new StartingPod(sim);
                this.inFlight.push(sim.starting);
            }
            if (sim.holdsResources) this.capacity.addPod(node, sim.requests, controller?.podsPerNode);
            list.push(sim);
        }
        // Each node's pods in listing order, as the drain sees them.
        if (ranks) for (const list of this.podsByNode.values()) list.sort((a, b) => a.rank - b.rank);
        for (const node of snapshot.nodes) {
            if (node.spec?.unschedulable || !isNodeReady(node)) continue;
            this.initiallySchedulable.add(node.metadata?.name ?? "");
            this.capacity.setSchedulable(node.metadata?.name ?? "", true);
        }
    }

    /** The node's pods, in listing order (pods are inserted in order; a drain keeps the order of those that stay). */
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
    strandedReplacements(): readonly SimPod[] {
        return this.unplaced;
    }

    /** Start of a batch: its nodes are cordoned. */
    cordon(nodes: string[]): void {
        for (const n of nodes) this.capacity.setSchedulable(n, false);
    }

    /**
     * The pod leaves its node: its requests are freed, its budgets and its controller lose a Ready pod, and
     * the controller creates a replacement on the node kube-scheduler would pick. Returns where the
     * replacement runs ("" when it fits nowhere yet; see strandedReplacements), or undefined when nothing
     * replaces the pod. Read what the plan shows of the pod before: its object becomes the replacement.
     */
    evict(sim: SimPod): string | undefined {
        sim.starting?.cancel();
        if (sim.holdsResources) this.capacity.removePod(sim.node, sim.requests, sim.controller?.podsPerNode);
        if (sim.healthy) {
            sim.healthy = false;
            for (const b of sim.budgets) b.healthy--;
        }
        if (sim.countsReady) {
            sim.countsReady = false;
            sim.controller!.ready--;
        }
        if (!sim.replaced) {
            for (const b of sim.budgets) b.matchedPods--;
            return undefined;
        }
        sim.becomeReplacement();
        if (!this.place(sim)) this.unplaced.push(sim);
        return sim.node;
    }

    private place(sim: SimPod): boolean {
        const controller = sim.controller!; // only replaced pods are placed, and they have one
        controller.placement ??= this.capacity.placementClass(sim.pod);
        const result = this.capacity.place(sim.pod, sim.requests, controller.podsPerNode, controller.placement);
        if (result.node === null) {
            this.unplacedReason.set(sim, result.reason);
            return false;
        }
        this.unplacedReason.delete(sim);
        sim.node = result.node;
        sim.recovered = false;
        // In listing order: after the pods that sort before it.
        const list = this.podsByNode.get(result.node)!;
        let lo = 0;
        let hi = list.length;
        while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if (list[mid].rank <= sim.rank) lo = mid + 1;
            else hi = mid;
        }
        if (lo === list.length) list.push(sim);
        else list.splice(lo, 0, sim);
        this.inFlight.push(sim);
        return true;
    }

    /**
     * Time passes during a drain: the replacements placed so far (and starting pods) that count for these
     * budgets or controllers become Ready. Returns those that did.
     */
    recoverFor(budgets: ReadonlySet<Budget>, controllers: ReadonlySet<ControllerState>): Recovery[] {
        const recovered: Recovery[] = [];
        const left: Recovery[] = [];
        for (const r of this.inFlight) {
            if (r.recovered) continue;
            if ((r.controller !== undefined && controllers.has(r.controller)) || r.budgets.some((b) => budgets.has(b))) {
                r.recover();
                recovered.push(r);
            } else left.push(r);
        }
        this.inFlight = left;
        return recovered;
    }

    /**
     * End of a batch: its nodes come back (if they took pods before the roll), stranded replacements
     * get another chance, and every replacement placed so far is Ready before the next batch drains.
     */
    finishBatch(nodes: string[]): void {
        for (const n of nodes) if (this.wasSchedulable(n)) this.capacity.setSchedulable(n, true);
        if (this.unplaced.length > 0) this.unplaced = this.unplaced.filter((r) => !this.place(r));
        for (const r of this.inFlight) r.recover();
        this.inFlight = [];
    }
}
