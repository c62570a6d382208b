// The plan against real rolls, over 200 generated clusters: control planes labelled either way (tainted or not),
// nodes already at the target, nodes a human left cordoned, Deployments pinned to a node pool by nodeSelector,
// PodDisruptionBudgets of every kind (some that can never allow a disruption), bare pods (with and without
// --force), emptyDir pods, batch sizes 1 and 2. For each cluster the plan is computed from the live API (as
// `pulumi preview` and `node-upgrade plan` do), then the roll runs with the drain engine in the batches `up`
// computes from the same live nodes (kube-rules' rollBatches over the drain engine's NodeInfo), and per node:
//  - the verdict (ok / waits / BLOCKED / skip) is what the roll did: skipped, drained without a refusal,
//    drained after refusals, or stopped for good;
//  - the budgets' numbers the plan shows for the node equal the simulated API server's PDB status just before
//    the node's batch is drained;
//  - the evictions the plan predicts equal the drain's evictions: the same snapshot pods, and per workload as
//    many pods (replacements included).
// The simulated cluster is the referee. Time is driven by the test: pods never become Ready on their own
// (start-up takes a simulated day), and whenever the roll waits the test moves the simulated clock until
// nothing is starting or terminating, so a roll of any length takes milliseconds and no outcome depends on
// how busy the machine is. A node is judged BLOCKED only when nothing can change any more: no pod starting or
// terminating, and every pod left on it is held by a budget that allows no disruption (or refused by a filter).
import assert from "node:assert/strict";
import type { KubeConfig } from "@kubernetes/client-node";
import { cordon, drain, DrainError, listNodes, loadKubeConfig, uncordon, waitForNode, type DrainOptions } from "../../drain";
import { planRoll, snapshotFromCluster, type RollPlan, type NodePlan } from "../../planner";
import { rollBatches } from "../../kube-rules";
import { Prng, buildBaseCluster, buildDeployment, buildNode, buildPdb, startCluster, type SimCluster } from "../../sim";
import { buildPod, buildTemplate } from "../../sim/scenarios/builders";

// GENERATED_FIRST_SEED=N GENERATED_CLUSTERS=1 replays the cluster a failure names.
const CLUSTERS = Number(process.env.GENERATED_CLUSTERS ?? 200);
const OLD = "v1.29.7";
const TARGET = "v1.30.2";
/** Simulated seconds a new pod takes to be Ready: never, unless the test moves the clock. */
const STARTUP = 86_400;

interface Generated {
    seed: number;
    list: { kind: "List"; items: any[] };
    batchSize: number;
    drain: DrainOptions;
    summary: string;
}

function generate(seed: number): Generated {
    const rng = new Prng(seed * 7919 + 17);
    const pick = <T>(xs: T[]): T => xs[rng.int(xs.length)];
    const chance = (p: number) => rng.next() < p;
    const ctx = { rng, nowMs: Date.now() };
    const nodes: any[] = [];
    const controlPlanes = rng.int(2);
    const workers = 2 + rng.int(3);
    for (let i = 0; i < controlPlanes + workers; i++) {
        const cp = i < controlPlanes;
        const name = cp ? `cp-${i}` : `w-${i}`;
        const labels: Record<string, string> = { pool: cp ? "system" : pick(["a", "b"]) };
        if (cp) labels[pick(["node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"])] = "";
        const taints = cp && chance(0.7) ? [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] : [];
        const node = buildNode(ctx, {
            name,
            labels,
            taints,
            version: chance(0.2) ? TARGET : OLD,
            internalIP: `10.0.0.${10 + i}`,
            podCIDR: `10.244.${i}.0/24`,
        });
        // A node a human cordoned (no node-upgrade annotation): the roll leaves it cordoned.
        if (!cp && chance(0.12)) node.spec.unschedulable = true;
        nodes.push(node);
    }
    const schedulable = nodes.filter((n) => !n.spec.unschedulable && !(n.spec.taints ?? []).length);
    if (!schedulable.length) return generate(seed + 100_000);
    // The nodes are built above (the draws for each node's labels come between them); this adds the rest.
    const { items, nodes: byName } = buildBaseCluster(ctx, nodes, { kubeProxy: { image: "registry.k8s.io/kube-proxy:v1.29.7" } });
    const parts: string[] = [];
    const deployments = 1 + rng.int(3);
    let emptyDir = false;
    for (let d = 0; d < deployments; d++) {
        const name = `app${d}`;
        const pinned = chance(0.25) ? pick(schedulable).metadata.labels.pool : undefined;
        const eligible = schedulable.filter((n) => !pinned || n.metadata.labels.pool === pinned);
        const replicas = 1 + rng.int(4);
        const hash = rng.hex(9);
        const withEmptyDir = chance(0.2);
        emptyDir ||= withEmptyDir;
        const start = rng.int(eligible.length);
        items.push(
            ...buildDeployment(
                ctx,
                {
                    namespace: "default",
                    name,
                    rsHash: hash,
                    template: {
                        labels: { app: name },
                        terminationGracePeriodSeconds: 1,
                        emptyDir: withEmptyDir,
                        ...(pinned ? { nodeSelector: { pool: pinned } } : {}),
                        containers: [{ name: "app", image: "nginx:1.25", cpu: "10m", memory: "16Mi" }],
                    },
                    pods: Array.from({ length: replicas }, (_, k) => ({
                        name: `${name}-${hash}-${rng.hex(5)}`,
                        node: eligible[(start + k) % eligible.length].metadata.name,
                    })),
                },
                byName,
            ),
        );
        let pdb = "";
        if (chance(0.6)) {
            const spec = pick<{ minAvailable?: number | string; maxUnavailable?: number | string }>([
                { maxUnavailable: 1 },
                { maxUnavailable: 1 },
                { minAvailable: Math.max(0, replicas - 1) },
                { minAvailable: "50%" },
                { maxUnavailable: "50%" },
                { minAvailable: replicas },
                { maxUnavailable: 0 },
            ]);
            items.push(buildPdb(ctx, "default", `${name}-pdb`, { app: name }, spec));
            pdb = ` pdb ${JSON.stringify(spec)}`;
        }
        parts.push(`${name}×${replicas}${pinned ? ` pinned pool=${pinned}` : ""}${withEmptyDir ? " emptyDir" : ""}${pdb}`);
    }
    if (chance(0.15)) {
        const node = pick(schedulable).metadata.name;
        const template = buildTemplate({
            labels: { run: "debug" },
            terminationGracePeriodSeconds: 1,
            containers: [{ name: "debug", image: "busybox:1.36", cpu: "10m", memory: "16Mi" }],
        });
        items.push(buildPod(ctx, "default", template, undefined, { name: "debug", node }, byName.get(node)));
        parts.push(`bare pod on ${node}`);
    }
    const drainOptions: DrainOptions = {
        ignoreDaemonSets: true,
        deleteEmptyDirData: !emptyDir || chance(0.7),
        force: chance(0.5),
    };
    const batchSize = chance(0.3) ? 2 : 1;
    const summary =
        `seed ${seed}: ${nodes.map((n) => `${n.metadata.name}@${n.status.nodeInfo.kubeletVersion}${n.spec.unschedulable ? "(cordoned)" : ""}`).join(" ")}; ` +
        `${parts.join("; ")}; batch ${batchSize}; ${JSON.stringify(drainOptions)}`;
    return { seed, list: { kind: "List", items }, batchSize, drain: drainOptions, summary };
}

const isReady = (p: any) => (p.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");

/** Moves the simulated clock until no pod is starting (scheduled, not Ready) or terminating. */
async function quiesce(sim: SimCluster): Promise<void> {
    for (let round = 0; round < 50; round++) {
        await sim.settle();
        const busy = sim.list("Pod").some((p) => p.metadata.deletionTimestamp || (p.spec?.nodeName && !isReady(p)));
        if (!busy) return;
        sim.clock.advance(STARTUP + 60);
    }
    throw new Error("the simulated cluster did not settle after 50 clock moves");
}

/** No pod left on the node can ever go: each is held by a budget that allows no disruption, and nothing moves. */
function heldForGood(sim: SimCluster, node: string, skipped: Set<string>): boolean {
    const left = sim
        .list("Pod")
        .filter(
            (p) =>
                p.spec?.nodeName === node &&
                !skipped.has(`${p.metadata.namespace}/${p.metadata.name}`) &&
                !(p.metadata.ownerReferences ?? []).some((r: any) => r.kind === "DaemonSet"),
        );
    if (!left.length) return false;
    const budgets = sim.list("PodDisruptionBudget");
    return left.every((p) => {
        const matching = budgets.filter(
            (b) =>
                b.metadata.namespace === p.metadata.namespace &&
                Object.entries(b.spec?.selector?.matchLabels ?? {}).every(([k, v]) => p.metadata.labels?.[k] === v),
        );
        return matching.length > 0 && matching.some((b) => (b.status?.disruptionsAllowed ?? 0) === 0);
    });
}

type Observed = "ok" | "waits" | "blocked";
const SEVERITY = { skip: -1, ok: 0, waits: 1, blocked: 2 };

interface NodeOutcome {
    verdict: Observed;
    /** Snapshot pods evicted, sorted. */
    known: string[];
    /** Evictions per workload ("default/app0 ×2"). */
    byWorkload: string[];
    /** PDB numbers (from the server) before the node's batch. */
    budgets: Map<string, number[]>;
}

const workloadOf = (pod: string) => pod.replace(/^([^/]+)\/(.+)-[0-9a-z]{9,10}-[0-9a-z]{5}$/, "$1/$2");

/** Total of a tally ("default/app0 ×2", ...). */
const count = (t: string[]) => t.reduce((sum, x) => sum + Number(x.split(" ×")[1]), 0);

function tally(pods: string[]): string[] {
    const counts = new Map<string, number>();
    for (const p of pods) counts.set(p, (counts.get(p) ?? 0) + 1);
    return [...counts].map(([w, n]) => `${w} ×${n}`).sort();
}

async function drainNode(sim: SimCluster, kc: KubeConfig, node: string, g: Generated, snapshotPods: Set<string>) {
    const stop = new AbortController();
    let waited = false;
    let kicking = false;
    let again = false;
    const skipped = new Set<string>();
    // Whenever the drain waits, move the clock until the cluster is still; then either the wait ends by itself
    // (a budget allows a disruption again) or nothing can change and the node is blocked for good.
    const kick = async () => {
        if (kicking) return void (again = true);
        kicking = true;
        try {
            do {
                again = false;
                await quiesce(sim);
                if (heldForGood(sim, node, skipped)) stop.abort();
            } while (again && !stop.signal.aborted);
        } finally {
            kicking = false;
        }
    };
    const evicted: string[] = [];
    let verdict: Observed;
    try {
        const result = await drain(kc, node, {
            ...g.drain,
            timeoutSeconds: 30,
            signal: stop.signal,
            onProgress: (e) => {
                if (e.type === "waiting-on-budget" || e.type === "waiting-on-workload") waited = true;
                // Once the drain has waited, every step it takes may be its last before waiting again.
                if (waited) void kick();
            },
        });
        for (const s of result.skipped) skipped.add(s.pod);
        evicted.push(...result.evicted.map((e) => e.pod));
        verdict = waited ? "waits" : "ok";
    } catch (err) {
        if (!(err instanceof DrainError)) throw err;
        assert.ok(["blocked", "cancelled"].includes(err.kind), `${node}: ${err.kind}: ${err.message}\n  ${g.summary}`);
        verdict = "blocked";
    }
    return {
        verdict,
        known: evicted.filter((p) => snapshotPods.has(p)).sort(),
        byWorkload: tally(evicted.map(workloadOf)),
    };
}

function budgetNumbers(sim: SimCluster): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const b of sim.list("PodDisruptionBudget")) {
        const s = b.status ?? {};
        out.set(`${b.metadata.namespace}/${b.metadata.name}`, [s.desiredHealthy, s.currentHealthy, s.expectedPods, s.disruptionsAllowed]);
    }
    return out;
}

/** Plans from the live API, rolls in up's batches, and returns both sides. */
async function planAndRoll(g: Generated) {
    const sim = await startCluster({
        scenario: g.list,
        timeScale: 100,
        startupDelaySeconds: STARTUP,
        upgradeDownSeconds: 1,
        serverVersion: TARGET,
        recordEvents: false,
    });
    try {
        await quiesce(sim);
        const kc = loadKubeConfig({ kubeconfig: sim.kubeconfig });
        const snapshot = await snapshotFromCluster(kc);
        const plan = planRoll(snapshot, { all: true, batchSize: g.batchSize, targetVersion: TARGET, drain: g.drain });
        const live = await listNodes(kc);
        const up = rollBatches(
            live.map((n) => ({
                name: n.name,
                controlPlane: n.controlPlane,
                kubeletVersion: n.kubeletVersion,
                cordonedByUs: n.cordonedByUs,
            })),
            { maxUnavailable: g.batchSize, targetVersion: TARGET, order: "name" },
        );
        const snapshotPods = new Set(snapshot.pods.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`));
        const outcomes = new Map<string, NodeOutcome>();
        for (const batch of up.batches) {
            await quiesce(sim);
            const budgets = budgetNumbers(sim);
            const results = await Promise.all(
                batch.map(async (node) => {
                    await cordon(kc, node);
                    const r = await drainNode(sim, kc, node, g, snapshotPods);
                    outcomes.set(node, { ...r, budgets });
                    return r.verdict;
                }),
            );
            if (results.includes("blocked")) break;
            for (const node of batch) {
                await sim.upgradeNode(node, TARGET);
                sim.clock.advance(5);
                await waitForNode(kc, node, { kubeletVersion: TARGET, timeoutSeconds: 60 });
                await uncordon(kc, node, { onlyIfCordonedByUs: true });
            }
        }
        return { plan, up, outcomes };
    } finally {
        await sim.stop();
    }
}

function planBatches(plan: RollPlan): string[][] {
    const byBatch = new Map<number, string[]>();
    for (const n of plan.nodes) if (n.batch > 0) byBatch.set(n.batch, [...(byBatch.get(n.batch) ?? []), n.node]);
    return [...byBatch.entries()].sort((a, b) => a[0] - b[0]).map(([, names]) => names);
}

function predictedEvictions(n: NodePlan) {
    return {
        known: n.evict
            .filter((e) => e.replaces === undefined)
            .map((e) => e.pod)
            .sort(),
        byWorkload: tally(
            n.evict.map((e) => {
                const m = /^(Deployment|ReplicaSet|StatefulSet) (\S+)$/.exec(e.owner);
                return m ? m[2] : e.replaces === undefined ? e.pod : `?${e.owner}`;
            }),
        ),
    };
}

describe("planner against real rolls: 200 generated clusters (verdicts, PDB numbers, evictions)", function () {
    this.timeout(20 * 60_000);

    it(`each node's verdict, budget numbers and evictions are what the roll does, over ${CLUSTERS} clusters`, async () => {
        const tallyVerdicts = { ok: 0, waits: 0, blocked: 0, skip: 0 };
        let budgetsCompared = 0;
        let evictionsCompared = 0;
        let races = 0;
        const first = Number(process.env.GENERATED_FIRST_SEED ?? 1);
        for (let seed = first; seed < first + CLUSTERS; seed++) {
            const g = generate(seed);
            const { plan, up, outcomes } = await planAndRoll(g);
            const where = `\n  ${g.summary}`;
            assert.deepEqual(planBatches(plan), up.batches, `batches${where}`);
            let stopped = false;
            let raced = false;
            let concurrent = false;
            for (const batch of up.batches) {
                if (stopped) {
                    for (const node of batch) {
                        const n = plan.nodes.find((x) => x.node === node)!;
                        assert.ok(n.assumesUnblocked?.length, `${node} comes after a blocked node and says so${where}`);
                    }
                    continue;
                }
                // Nodes of one batch that share a short budget race for it: the plan gives each the worst outcome
                // (and says so); the roll may do better for some of them, never worse, and where replacements go
                // from then on depends on the race.
                const race = batch.some((node) => plan.nodes.find((x) => x.node === node)!.reasons.some((r) => r.includes("(batch race)")));
                raced ||= race;
                for (const node of batch) {
                    const n = plan.nodes.find((x) => x.node === node)!;
                    const got = outcomes.get(node)!;
                    if (race && n.reasons.some((r) => r.includes("(batch race)"))) {
                        assert.ok(
                            SEVERITY[got.verdict] <= SEVERITY[n.verdict],
                            `${node}: ${got.verdict}, worse than the plan's ${n.verdict}${where}`,
                        );
                        races++;
                    } else assert.equal(n.verdict, got.verdict, `${node}: verdict (plan: ${n.reasons.join(" | ")})${where}`);
                    tallyVerdicts[got.verdict]++;
                    // A budget an earlier node of the same batch also spends is read by the plan after that node's
                    // drain (it plans them one after the other) while the server's status is read before the batch.
                    const earlier = new Set(
                        batch.slice(0, batch.indexOf(node)).flatMap((o) => plan.nodes.find((x) => x.node === o)!.budgets.map((b) => b.key)),
                    );
                    for (const b of n.budgets.filter((x) => !earlier.has(x.key))) {
                        const server = got.budgets.get(b.key);
                        assert.deepEqual(
                            [b.desiredHealthy, b.currentHealthy, b.expectedPods, b.disruptionsAllowed],
                            server,
                            `${node}: PodDisruptionBudget ${b.key} (desiredHealthy, currentHealthy, expectedPods, disruptionsAllowed)${where}`,
                        );
                        budgetsCompared++;
                    }
                    if (got.verdict !== "blocked" && !raced) {
                        const want = predictedEvictions(n);
                        assert.deepEqual(got.known, want.known, `${node}: evicted snapshot pods${where}`);
                        if (concurrent) {
                            // After a batch of 2 drained at once, which replacement went where depended on how the two
                            // drains interleaved (the scheduler balances pod counts, not workloads): counts only.
                            assert.equal(count(got.byWorkload), count(want.byWorkload), `${node}: evictions${where}`);
                        } else assert.deepEqual(got.byWorkload, want.byWorkload, `${node}: evictions per workload${where}`);
                        evictionsCompared += got.known.length;
                    }
                }
                if (batch.some((node) => outcomes.get(node)?.verdict === "blocked")) stopped = true;
                if (batch.length > 1) concurrent = true;
            }
            for (const s of up.skipped) {
                assert.equal(plan.nodes.find((x) => x.node === s.name)?.verdict, "skip", `${s.name}: skip${where}`);
                tallyVerdicts.skip++;
            }
        }
        // The generator must reach every verdict, or the comparison proves less than it says.
        for (const [verdict, count] of Object.entries(tallyVerdicts)) assert.ok(count > 0, `no node was ${verdict}`);
        assert.ok(budgetsCompared > 100 && evictionsCompared > 200, `${budgetsCompared} budgets, ${evictionsCompared} evictions`);
        console.log(
            `      ${CLUSTERS} clusters: nodes ok ${tallyVerdicts.ok}, waits ${tallyVerdicts.waits}, blocked ${tallyVerdicts.blocked}, ` +
                `skip ${tallyVerdicts.skip}; ${races} in batch races; ${budgetsCompared} budget readings and ${evictionsCompared} evictions compared`,
        );
    });
});
