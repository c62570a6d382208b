// `npm run demo`: the node upgrade of the Korean walkthrough (/work/shared/docs/seed), done by the package's
// root Pulumi program instead of by hand. It starts the simulated "seed" cluster (master, worker1, worker2 at
// v1.19.0, http-go with 10 replicas) in this process, runs `rollFromConfig` (what index.ts runs under
// `pulumi up`) through the local engine (../local-engine), and prints kubectl-like tables before, during and
// after the roll.
//
//   npm run demo                          roll every node to v1.20.0
//   npm run demo -- --preview             `pulumi preview`: the plan, and proof that nothing was changed
//   npm run demo -- --scenario pdb        a roll that a PodDisruptionBudget stops (exit code 2, explained)
//   npm run demo -- --scenario shared     a colleague holds the roll lock: the roll waits for it, then proceeds
//   npm run demo -- --target-version v1.20.1 --time-scale 20 --no-pdb
//   npm run demo -- --no-pdb --no-pacing  neither a budget nor pacing: drains take every http-go pod down at once
//
// Exit codes: 0 success (every node Ready, schedulable and at the target version, checked through the API);
// 2 the roll stopped at a node (the pdb scenario does, on purpose); 1 anything else, bad arguments included
// (rejected before anything starts).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import type * as pulumi from "@pulumi/pulumi";
import type { KubeConfig } from "@kubernetes/client-node";
import type { SimCluster } from "../sim";
import { formatDuration } from "../kube-rules";
import { durationFlag, targetVersionFlag } from "../cli";
import type { RollingNodeUpgradeReport } from "../components";
import type { LeaseLockOptions } from "../shared-cluster";
import type { DynamicProviderHost, LocalEngine, StepEvent } from "../local-engine";
import type { KubeGet } from "./kube-get";
import { ProgressPrinter } from "./progress";

type ScenarioName = "seed" | "pdb" | "shared";
const SCENARIO_NAMES: ScenarioName[] = ["seed", "pdb", "shared"];

interface Scenario {
    title: string;
    /** The simulated cluster it starts (sim's scenario): "shared" is the seed cluster plus a colleague's lock. */
    cluster: "seed" | "pdb";
    nodes: string[];
    defaultTarget: string;
    defaultDrainTimeout: string;
    /** The pods the story follows. */
    watch: { namespace: string; selector?: string; label: string };
}

const SCENARIOS: Record<ScenarioName, Scenario> = {
    seed: {
        title: "the walkthrough's cluster: master, worker1 and worker2 at v1.19.0, http-go with 10 replicas",
        cluster: "seed",
        nodes: ["master", "worker1", "worker2"],
        defaultTarget: "v1.20.0",
        defaultDrainTimeout: "2m",
        watch: { namespace: "default", selector: "app=http-go", label: "http-go" },
    },
    pdb: {
        title: 'control-plane, worker1 and worker2 at v1.28.5; on worker1 the only replica of "critical", guarded by a PodDisruptionBudget',
        cluster: "pdb",
        nodes: ["control-plane", "worker1", "worker2"],
        defaultTarget: "v1.28.6",
        defaultDrainTimeout: "15s",
        watch: { namespace: "default", label: "application" },
    },
    shared: {
        title: "the walkthrough's cluster (master, worker1 and worker2 at v1.19.0, http-go with 10 replicas), shared with a colleague who holds the roll lock",
        cluster: "seed",
        nodes: ["master", "worker1", "worker2"],
        defaultTarget: "v1.20.0",
        defaultDrainTimeout: "2m",
        watch: { namespace: "default", selector: "app=http-go", label: "http-go" },
    },
};

/**
 * The shared scenario's colleague: their `node-upgrade drain --lock worker2` holds the roll lock when the roll
 * starts, and finishes `finishesAfter` simulated seconds after the roll reports that it waits for them.
 */
const COLLEAGUE = {
    /** Who they are, as the CLI's holderIdentity names them: `cli bob@ops-laptop pid 48213`. */
    identity: { tool: "cli", user: "bob", host: "ops-laptop", pid: 48213 },
    who: "bob@ops-laptop",
    node: "worker2",
    finishesAfter: 30,
    leaseDurationSeconds: 3600,
};
const LOCK = { namespace: "kube-system", name: "node-upgrade" };
/** The shared scenario's stack config: wait for another holder this long (real time, like every timeout of the roll). */
const LOCK_TIMEOUT = "10m";

/** The upgrade "on the host": on a real cluster an apt/kubeadm script run over SSH; here the simulator's command. */
const UPGRADE_COMMAND = 'node dist/sim/cli.js upgrade-node --kubeconfig "$KUBECONFIG" --node "$NODE_NAME" --version "$TARGET_VERSION"';

const EXIT_ROLL_STOPPED = 2;

/**
 * The heavy modules (Pulumi, client-node, the simulator, the local engine: ~2 s to load), loaded only once the
 * arguments are known to be good, so that a usage error comes back at once.
 */
let libs: {
    pulumi: typeof import("@pulumi/pulumi");
    sim: typeof import("../sim");
    engine: typeof import("../local-engine");
    kubeGet: typeof import("./kube-get");
    drain: typeof import("../drain");
    sharedCluster: typeof import("../shared-cluster");
};

async function loadLibs(): Promise<void> {
    const [pulumiLib, sim, engine, kubeGet, drain, sharedCluster] = await Promise.all([
        import("@pulumi/pulumi"),
        import("../sim"),
        import("../local-engine"),
        import("./kube-get"),
        import("../drain"),
        import("../shared-cluster"),
    ]);
    libs = { pulumi: pulumiLib, sim, engine, kubeGet, drain, sharedCluster };
}

/** The colleague's holderIdentity, as their `node-upgrade drain --lock` writes it. */
const colleagueHolder = (): string => libs.sharedCluster.holderIdentity(COLLEAGUE.identity);

const isReady = (obj: any): boolean => libs.kubeGet.isReady(obj);

interface Options {
    preview: boolean;
    scenario: ScenarioName;
    targetVersion?: string;
    timeScale: number;
    drainTimeout?: string;
    pdb: boolean;
    /** Per-workload pacing (drainMaxUnavailablePerWorkload 1, the default); --no-pacing sets it to 0. */
    pacing: boolean;
}

function parseArgs(argv: string[]): Options {
    const program = new Command("demo")
        .description("Roll the simulated walkthrough cluster to a new kubelet version with the package's Pulumi program")
        .usage("[options]   (as npm run demo -- [options])")
        .showHelpAfterError("(npm run demo -- --help lists the options)")
        .option("--preview", "show the plan (pulumi preview) and change nothing")
        .option(
            "--scenario <name>",
            "seed (the walkthrough), pdb (a roll a PodDisruptionBudget stops) or shared (a roll that waits for a colleague's lock)",
            (v) => {
                if (!(SCENARIO_NAMES as string[]).includes(v)) throw new InvalidArgumentError('must be "seed", "pdb" or "shared"');
                return v;
            },
            "seed",
        )
        .option(
            "--target-version <version>",
            "kubelet version to upgrade to, a full version like v1.20.0 (default: v1.20.0 for seed and shared, v1.28.6 for pdb)",
            // The CLI's check of kube-rules' rule, the one the components apply: caught here instead of stopping the roll.
            targetVersionFlag("--target-version"),
        )
        .option(
            "--time-scale <n>",
            "simulated seconds per real second",
            (v) => {
                const n = Number(v);
                if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError("must be a number above 0, e.g. --time-scale 20");
                return n;
            },
            4,
        )
        .option(
            "--drain-timeout <duration>",
            "drain timeout per node, real time, as a Go duration like 30s or 2m (default: 2m for seed and shared, 15s for pdb)",
            (v) => {
                durationFlag("--drain-timeout")(v); // the CLI's --timeout check; the stack config takes the text
                return v;
            },
        )
        .option("--no-pdb", "seed and shared: do not declare the practice's PodDisruptionBudget for http-go")
        .option(
            "--no-pacing",
            "turn off per-workload pacing (drainMaxUnavailablePerWorkload 0): pods no budget covers are evicted all at once, as kubectl drain does",
        )
        .exitOverride();
    program.parse(argv, { from: "user" });
    const o = program.opts();
    if (o.pdb === false && SCENARIOS[o.scenario as ScenarioName].cluster !== "seed")
        throw new Error(`--no-pdb only applies to --scenario seed or shared (the ${o.scenario} scenario is about its budget)`);
    return {
        preview: !!o.preview,
        scenario: o.scenario,
        targetVersion: o.targetVersion,
        timeScale: o.timeScale,
        drainTimeout: o.drainTimeout,
        pdb: o.pdb !== false,
        pacing: o.pacing !== false,
    };
}

const out = (line = "") => process.stdout.write(line + "\n");
const indent = (text: string, by = "  ") =>
    text
        .split("\n")
        .map((l) => by + l)
        .join("\n");
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
/** "41.3s", "1m5.2s": kube-rules' Go-style durations, to a tenth of a second. */
const seconds = (s: number) => formatDuration(Math.round(s * 10) / 10);
const sameVersion = (a: string, b: string) => a.replace(/^v/i, "") === b.replace(/^v/i, "");

function nodeStatus(node: any): string {
    const parts = [isReady(node) ? "Ready" : "NotReady"];
    if (node?.spec?.unschedulable) parts.push("SchedulingDisabled");
    return parts.join(",");
}

/** "default/http-go ×6, kube-system/coredns ×1": evicted pods by owner (the pod name without its generated suffixes). */
function byWorkload(pods: string[]): string {
    const counts = new Map<string, number>();
    for (const p of pods) {
        const [ns, name] = p.split("/");
        const m = /^(.*)-[a-z0-9]{8,10}-[a-z0-9]{5}$/.exec(name) ?? /^(.*)-[a-z0-9]{5}$/.exec(name);
        const key = `${ns}/${m ? m[1] : name}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return [...counts].map(([k, n]) => `${k} ×${n}`).join(", ");
}

/** Wraps a long sentence at word boundaries, every line indented by `prefix`. */
function wrap(text: string, prefix: string, width = 110): string {
    const lines: string[] = [];
    let line = "";
    for (const word of text.split(" ")) {
        if (line && prefix.length + line.length + 1 + word.length > width) {
            lines.push(prefix + line);
            line = word;
        } else {
            line = line ? `${line} ${word}` : word;
        }
    }
    if (line) lines.push(prefix + line);
    return lines.join("\n");
}

/** "master (3) and worker2 (3)" */
function placement(pods: any[]): string {
    const counts = new Map<string, number>();
    for (const p of pods) counts.set(p.spec?.nodeName ?? "<none>", (counts.get(p.spec?.nodeName ?? "<none>") ?? 0) + 1);
    const parts = [...counts].sort((a, b) => a[0].localeCompare(b[0])).map(([n, c]) => `${n} (${c})`);
    return parts.length <= 1 ? parts.join("") : `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}

class Demo {
    private readonly api: KubeGet;
    private readonly printer: ProgressPrinter;
    private readonly scenario: Scenario;
    private readonly target: string;
    /** node → the watched pods when its chain started: those on the node, and all of them. */
    private readonly before = new Map<string, { here: Set<string>; all: Set<string> }>();
    private started = 0;
    /** The first step that failed, with the provider's own error (without the SDK's wrapping). */
    private failure?: { event: StepEvent; error: Error };
    /**
     * The shared scenario: when the roll reported that it waits for the colleague's lock (simulated and real epoch
     * ms), when the colleague let go, and when the roll took the lock.
     */
    private lockWait?: { node: string; sim: number; real: number; releasedSim?: number; acquiredSim?: number; acquiredReal?: number };

    constructor(
        private readonly opts: Options,
        private readonly sim: SimCluster,
        private readonly kubeconfigPath: string,
    ) {
        this.api = new libs.kubeGet.KubeGet(sim.kubeconfig);
        this.scenario = SCENARIOS[opts.scenario];
        this.target = opts.targetVersion ?? this.scenario.defaultTarget;
        this.printer = new ProgressPrinter(out, Math.max(...this.scenario.nodes.map((n) => n.length)));
    }

    /** The provider host's lines: printed, and in the shared scenario watched for the roll's lock wait. */
    readonly onHostLine = (raw: string, stream: "stdout" | "stderr"): void => {
        this.printer.onHostLine(raw, stream);
        if (this.opts.scenario === "shared") this.watchLock(raw);
    };

    // ---------------------------------------------------------------- kubectl-like views

    private async showNodes(): Promise<void> {
        out(indent(`$ kubectl get nodes\n${await this.api.nodesTable()}`));
    }

    private async showPods(): Promise<void> {
        const w = this.scenario.watch;
        const cmd = `$ kubectl get pods -o wide${w.namespace !== "default" ? ` -n ${w.namespace}` : ""}${w.selector ? ` -l ${w.selector}` : ""}`;
        out(indent(`${cmd}\n${await this.api.podsTable(w.namespace, w.selector)}`));
    }

    private async showPdbs(): Promise<void> {
        out(indent(`$ kubectl get pdb\n${await this.api.pdbTable("default")}`));
    }

    private async showCluster(): Promise<void> {
        await this.showNodes();
        out();
        await this.showPods();
    }

    /** The watched pods that are not terminating. */
    private async livePods(): Promise<any[]> {
        const w = this.scenario.watch;
        return (await this.api.pods(w.namespace, w.selector)).filter((p) => !p.metadata?.deletionTimestamp);
    }

    private async node(name: string): Promise<any> {
        return (await this.api.nodes()).find((n) => n.metadata?.name === name);
    }

    // ---------------------------------------------------------------- the colleague (shared scenario)

    private async showLease(): Promise<void> {
        out(indent(`$ kubectl get lease -n ${LOCK.namespace} ${LOCK.name}\n${await this.api.leaseTable(LOCK.namespace, LOCK.name)}`));
    }

    private colleague?: { kc: KubeConfig; lock: LeaseLockOptions };

    /** What the colleague's `node-upgrade drain --lock` gives shared-cluster's lock API: their cluster access and lock. */
    private colleagueLock(): NonNullable<Demo["colleague"]> {
        return (this.colleague ??= {
            kc: libs.drain.loadKubeConfig({ kubeconfig: this.sim.kubeconfig }),
            lock: { ...LOCK, holderIdentity: colleagueHolder(), leaseDurationSeconds: COLLEAGUE.leaseDurationSeconds },
        });
    }

    /**
     * Before the roll: the colleague's drain takes the Lease with shared-cluster's tryAcquireLease, as their
     * `node-upgrade drain --lock` does. Its times are wall-clock time, as the roll reads them; leaseDurationSeconds
     * 3600 stands for the renewals their process would keep doing (every 20 s) while their drain runs.
     */
    async colleagueTakesLock(): Promise<void> {
        const { kc, lock } = this.colleagueLock();
        const taken = await libs.sharedCluster.tryAcquireLease(kc, lock);
        if (!taken.acquired) throw new Error(`the colleague could not take the lock: ${taken.reason}`);
    }

    /** On the roll's "waiting: lease … is held by <colleague>" line: their drain finishes a little later. */
    private watchLock(raw: string): void {
        const waiting = /^node-upgrade: \[NodeCordon (\S+)\] lease: waiting: lease \S+ is held by (.+?) \(expires at /.exec(raw);
        if (waiting && waiting[2] === colleagueHolder() && !this.lockWait) {
            this.lockWait = { node: waiting[1], sim: this.sim.clock.now().getTime(), real: Date.now() };
            this.colleagueFinishes().catch((err) => out(`error: the colleague's release failed: ${err?.stack ?? err}`));
            return;
        }
        if (
            this.lockWait &&
            this.lockWait.acquiredSim === undefined &&
            /^node-upgrade: \[NodeCordon \S+\] lease: acquired lease /.test(raw)
        ) {
            this.lockWait.acquiredSim = this.sim.clock.now().getTime();
            this.lockWait.acquiredReal = Date.now();
        }
    }

    /**
     * The colleague's drain finishes `finishesAfter` simulated seconds after the roll said it waits, and their
     * `node-upgrade drain` releases the lock with shared-cluster's releaseLease (holderIdentity cleared; the Lease
     * object stays, for the next holder).
     */
    private async colleagueFinishes(): Promise<void> {
        await this.sim.clock.sleep(COLLEAGUE.finishesAfter);
        const { kc, lock } = this.colleagueLock();
        if (!(await libs.sharedCluster.releaseLease(kc, lock))) return; // no longer theirs
        this.lockWait!.releasedSim = this.sim.clock.now().getTime();
        out(
            `  ${COLLEAGUE.who} released the lock (their drain of ${COLLEAGUE.node} finished, ${COLLEAGUE.finishesAfter} s later in simulated time)`,
        );
    }

    private introLock(): void {
        out(
            wrap(
                `The roll lock. A colleague, ${COLLEAGUE.who}, is draining ${COLLEAGUE.node} with \`node-upgrade drain --lock ${COLLEAGUE.node}\`. ` +
                    `Their drain holds the Lease ${LOCK.namespace}/${LOCK.name}, the lock every node-upgrade roll takes before a cordon, ` +
                    "so that two of them never have nodes down at once:",
                "",
            ),
        );
    }

    private async showLockIntro(): Promise<void> {
        this.introLock();
        await this.showLease();
        out(
            wrap(
                `(taken as their drain takes it, with shared-cluster's lock API: holderIdentity "${colleagueHolder()}", renewTime ` +
                    `just now, leaseDurationSeconds ${COLLEAGUE.leaseDurationSeconds}${this.opts.preview ? "; before the preview starts" : ""}. ` +
                    `Only the lock is simulated: ${COLLEAGUE.node} itself is not cordoned.)`,
                "",
            ),
        );
        out(
            wrap(
                `The stack sets lockTimeout: ${LOCK_TIMEOUT}, so the roll waits for the lock (up to ${LOCK_TIMEOUT}, real time) instead of ` +
                    "stopping at once, which is the default." +
                    (this.opts.preview
                        ? ""
                        : ` When the roll reports that it waits for ${COLLEAGUE.who}, the demo lets their drain finish ` +
                          `${COLLEAGUE.finishesAfter} s later (simulated time): they release the lock, and the roll goes on.`),
                "",
            ),
        );
    }

    /** After the roll: how long it waited for the colleague's lock, and that the Lease is free again. */
    private async showLockOutcome(): Promise<void> {
        const w = this.lockWait;
        if (w?.acquiredSim !== undefined && w.acquiredReal !== undefined) {
            const simWait = formatDuration(Math.round((w.acquiredSim - w.sim) / 1000));
            const realWait = seconds((w.acquiredReal - w.real) / 1000);
            out(
                wrap(
                    `The roll lock: the roll waited ${simWait} (simulated; ${realWait} real) for ${COLLEAGUE.who}'s lock before ` +
                        `cordoning ${w.node}. They released it after ${COLLEAGUE.finishesAfter} s; the roll checks the Lease every second ` +
                        "(real time) and took it at its next check. Then each node took the lock before its cordon and gave it back " +
                        "after its uncordon:",
                    "",
                ),
            );
        } else {
            out(`The roll lock: the roll never reported waiting for ${COLLEAGUE.who}'s lock.`);
        }
        await this.showLease();
    }

    // ---------------------------------------------------------------- stack configuration

    config(): Record<string, unknown> {
        return {
            kubeconfig: this.sim.kubeconfig,
            targetVersion: this.target,
            nodes: this.scenario.nodes,
            upgradeCommand: UPGRADE_COMMAND,
            upgradeEnvironment: [`KUBECONFIG=${this.kubeconfigPath}`],
            drainIgnoreDaemonSets: true,
            drainDeleteEmptyDirData: true,
            drainTimeout: this.opts.drainTimeout ?? this.scenario.defaultDrainTimeout,
            readyTimeout: "2m",
            readyPollInterval: "200ms",
            ...(this.opts.scenario === "shared" ? { lockTimeout: LOCK_TIMEOUT } : {}),
            // Only when turned off, so the default configuration shows what a stack would declare.
            ...(this.opts.pacing ? {} : { drainMaxUnavailablePerWorkload: 0 }),
        };
    }

    private showConfig(): void {
        const c = this.config();
        const notes: Record<string, string> = {
            kubeconfig: "# the simulator's kubeconfig, kept secret",
            nodes: "# control-plane nodes still go first",
            drainIgnoreDaemonSets: "# kubectl drain --ignore-daemonsets",
            drainDeleteEmptyDirData: "# --delete-emptydir-data (the walkthrough's --delete-local-data)",
            drainTimeout: "# per node; then the roll stops there",
            drainMaxUnavailablePerWorkload: "# --no-pacing: no per-workload pacing (default 1)",
            lockTimeout: "# wait this long while someone else holds the roll lock (default 0: stop at once)",
        };
        const value = (k: string, v: unknown) => (k === "kubeconfig" ? "[secret]" : typeof v === "string" ? v : JSON.stringify(v));
        const lines = Object.entries(c).map(([k, v]) => `  node-upgrade:${k}: ${value(k, v)}${notes[k] ? `   ${notes[k]}` : ""}`);
        out("The stack configuration (keys declared in Pulumi.yaml), as Pulumi.<stack>.yaml would hold it:");
        out(indent(`config:\n${lines.join("\n")}`));
        out();
        out("On a real cluster the upgrade command runs on each node over SSH (apt-get install kubelet=..., kubeadm");
        out("upgrade node, ...). Here the local engine runs it on this machine, and it asks the simulator to restart the");
        out("node's kubelet at the new version.");
        out();
        out("The progress lines below are what the steps print. Under the real `pulumi up` they arrive as info messages");
        out("of the stack, not of a resource: the pulumi:pulumi:Stack row shows the latest one while the roll runs, and");
        out('all of them are listed under "Diagnostics: pulumi:pulumi:Stack" at the end (see the README).');
    }

    /** The npm command for this scenario, with or without --preview. */
    private command(preview: boolean): string {
        const args = [this.opts.scenario !== "seed" ? `--scenario ${this.opts.scenario}` : "", preview ? "--preview" : ""].filter(Boolean);
        return `npm run demo${args.length ? ` -- ${args.join(" ")}` : ""}`;
    }

    // ---------------------------------------------------------------- the engine's hooks

    private parse(event: StepEvent): { node: string; step: string } | undefined {
        const m = /^roll-(.+)-(cordon|drain|upgrade|ready|uncordon)$/.exec(event.name);
        return m ? { node: m[1], step: m[2] } : undefined;
    }

    hooks = {
        beforeStep: async (event: StepEvent) => {
            const s = this.parse(event);
            if (!s) return;
            if (s.step === "cordon") {
                const i = this.scenario.nodes.indexOf(s.node);
                out();
                out(`━━ ${s.node} (${i + 1}/${this.scenario.nodes.length}) ━━ cordon → drain → upgrade → wait Ready → uncordon ━━`);
                const pods = await this.livePods();
                this.before.set(s.node, {
                    here: new Set(pods.filter((p) => p.spec?.nodeName === s.node).map((p) => p.metadata.name)),
                    all: new Set(pods.map((p) => p.metadata.name)),
                });
            }
            if (s.step === "upgrade") {
                this.printer.line(s.node, "upgrade", `$ ${UPGRADE_COMMAND}`);
                this.printer.line(
                    s.node,
                    "upgrade",
                    `  (with NODE_NAME=${s.node} TARGET_VERSION=${this.target}; over SSH on a real node, locally here)`,
                );
            }
        },
        afterStep: async (event: StepEvent) => {
            const s = this.parse(event);
            if (!s) return;
            const type = event.type.split(":").pop()!;
            if (s.step === "upgrade") {
                for (const l of String(event.outputs?.stdout ?? "")
                    .split("\n")
                    .filter(Boolean))
                    this.printer.line(s.node, "upgrade", l);
                return;
            }
            await this.printer.waitForLine(type, s.node, event.outputs?.message);
            if (s.step === "drain") await this.afterDrain(s.node, event.outputs ?? {});
            if (s.step === "uncordon") await this.afterUncordon(s.node);
        },
        stepFailed: async (event: StepEvent, error: Error) => {
            this.failure ??= { event, error };
            await new Promise((r) => setTimeout(r, 300)); // let the provider's last lines arrive
        },
    };

    private async afterDrain(nodeName: string, outputs: Record<string, any>): Promise<void> {
        const evicted: string[] = outputs.evictedPods ?? [];
        out();
        out(`  After the drain of ${nodeName}:`);
        await this.showCluster();
        const node = await this.node(nodeName);
        const before = this.before.get(nodeName) ?? { here: new Set<string>(), all: new Set<string>() };
        // Replacements: watched pods that did not exist when this node's chain started.
        const replacements = (await this.livePods()).filter((p) => !before.all.has(p.metadata.name));
        const label = this.scenario.watch.label;
        out(`  → ${nodeName} is ${nodeStatus(node)}: cordoned, so nothing new is scheduled there.`);
        if (outputs.alreadyAtTarget) {
            out(`    It already ran ${this.target}, so it was not drained.`);
        } else if (evicted.length > 0) {
            out(wrap(`${plural(evicted.length, "pod")} evicted: ${byWorkload(evicted)}.`, "    "));
            const skipped: string[] = outputs.skippedPods ?? [];
            if (skipped.length) out(wrap(`Left in place: ${skipped.join(", ")}.`, "    "));
            if (before.here.size > 0) {
                out(
                    `    Its ${plural(before.here.size, `${label} pod`)} left; ` +
                        (replacements.length
                            ? `the ReplicaSet's replacements run on ${placement(replacements)}.`
                            : "no replacement is running yet."),
                );
            }
        } else {
            out(`    There was nothing to evict.`);
        }
        out();
    }

    private async afterUncordon(nodeName: string): Promise<void> {
        out();
        out(`  After the uncordon of ${nodeName}:`);
        await this.showCluster();
        const node = await this.node(nodeName);
        const here = (await this.livePods()).filter((p) => p.spec?.nodeName === nodeName).length;
        const version = node?.status?.nodeInfo?.kubeletVersion ?? "?";
        out(
            `  → ${nodeName} is ${nodeStatus(node)} at ${version}. It runs ${plural(here, `${this.scenario.watch.label} pod`)}: uncordon does not move pods back;`,
        );
        out(`    they stay where the scheduler put them, until something else (a new roll-out, a scale-up) places pods here.`);
        out();
    }

    // ---------------------------------------------------------------- the two modes

    async intro(): Promise<void> {
        out(`Simulated cluster "${this.opts.scenario}": ${this.scenario.title}.`);
        out(`It is a real HTTPS Kubernetes API server in this process; simulated time runs ${this.opts.timeScale}× faster than real time.`);
        out();
        await this.showCluster();
        out();
        const pods = await this.livePods();
        if (this.scenario.cluster === "seed") {
            out(`http-go has ${pods.length} replicas: ${placement(pods)}.`);
            if (this.opts.pdb) {
                out("The walkthrough's http-go has no PodDisruptionBudget; its practice declares one, and so does this demo:");
                out(indent("$ kubectl apply -f -   # PodDisruptionBudget default/http-go: maxUnavailable: 1, selector app=http-go"));
                if (this.opts.preview) out("(applied while setting up the demo cluster, before the preview starts)");
                out("Drains may then take at most one http-go pod down at a time: at least 9 of 10 stay Ready.");
                if (!this.opts.pacing)
                    out(
                        "Per-workload pacing is off (--no-pacing): the budget alone keeps 9 of 10 Ready, as in the walkthrough's practice.",
                    );
            } else if (this.opts.pacing) {
                out(
                    wrap(
                        "No PodDisruptionBudget for http-go (--no-pdb). The drain's per-workload pacing still keeps 9 of 10 http-go " +
                            "replicas Ready: for a workload no budget covers, it evicts one pod at a time and evicts the next only once " +
                            "the replacement is Ready on another node (drainMaxUnavailablePerWorkload: 1, the default). kubectl drain " +
                            "would evict them all at once: add --no-pacing to see that.",
                        "",
                    ),
                );
            } else {
                out(
                    wrap(
                        "No PodDisruptionBudget for http-go (--no-pdb) and no per-workload pacing (--no-pacing): each drain evicts " +
                            "every http-go pod on its node at once, as kubectl drain does. Watch how many stay Ready (counted at the end).",
                        "",
                    ),
                );
            }
        } else {
            await this.showPdbs();
            out();
            out("critical-pdb wants 1 healthy pod of a Deployment that has exactly 1: it never allows an eviction.");
        }
        out();
        if (this.opts.scenario === "shared") {
            await this.showLockIntro();
            out();
        }
        this.showConfig();
        out();
    }

    async preview(engine: LocalEngine, roll: () => pulumi.Output<RollingNodeUpgradeReport>): Promise<number> {
        this.sim.clearRequestLog();
        out("$ pulumi preview   (local engine: the program reads the cluster, the planner simulates the roll; nothing is changed)");
        const logged: string[] = [];
        const original = { log: console.log, warn: console.warn, error: console.error };
        // Under the local engine pulumi.log.info/warn print "info: [runtime] …" / "warning: [runtime] …".
        console.log = (...a: any[]) => logged.push(a.map(String).join(" "));
        console.warn = (...a: any[]) => logged.push(a.map(String).join(" "));
        console.error = (...a: any[]) => logged.push(a.map(String).join(" "));
        let result;
        try {
            result = await engine.run(roll, { config: libs.engine.stackConfig(this.config()), secretKeys: ["kubeconfig"], preview: true });
        } finally {
            Object.assign(console, original);
        }
        if (!result.ok) {
            out(`error: the preview failed: ${result.error?.message}`);
            return 1;
        }
        const PLAN = /^(info|warning): \[runtime\] (\[\d+\/\d+\] [\s\S]*)$/;
        // A BLOCKED node's block is a warning in `pulumi preview` (the others are info messages): marked as such.
        const blocks = logged
            .map((l) => PLAN.exec(l))
            .filter((m): m is RegExpExecArray => !!m)
            .map((m) => (m[1] === "warning" ? `warning: ${m[2]}` : m[2]));
        for (const l of logged.filter((x) => !PLAN.test(x))) out(indent(l));
        out();
        if (this.opts.scenario === "shared") {
            out(
                wrap(
                    `The roll lock: the preview names its holder, ${colleagueHolder()}. \`pulumi up\` would wait for it before ` +
                        `${this.scenario.nodes[0]}'s cordon (lockTimeout ${LOCK_TIMEOUT}), and stop there, with nothing cordoned, if it were ` +
                        "still held after that.",
                    "",
                ),
            );
            out();
        }
        out("The plan, node by node (RollingNodeUpgrade logs one block per node during `pulumi preview`; a BLOCKED node's as a warning):");
        out();
        for (const b of blocks) {
            out(indent(b));
            out();
        }
        const steps = result.ops.filter((o) => o.type.startsWith("pulumi-nodejs:") || o.type === "command:remote:Command");
        out("`pulumi up` would run these steps, one node after the other:");
        for (const node of this.scenario.nodes) {
            const mine = steps.filter((o) => o.name.startsWith(`roll-${node}-`)).map((o) => o.name.slice(`roll-${node}-`.length));
            if (mine.length)
                out(
                    `  ${node.padEnd(Math.max(...this.scenario.nodes.map((n) => n.length)))}  ${mine.join(" → ")}   (${plural(mine.length, "resource")} to ${steps.find((o) => o.name.startsWith(`roll-${node}-`))!.op === "plan-create" ? "create" : "update"})`,
                );
        }
        out();
        const requests = this.sim.requestLog();
        const writes = requests.filter((r) => r.method !== "GET" && r.method !== "HEAD");
        if (writes.length > 0) {
            out(`error: the preview changed the cluster: ${writes.map((r) => `${r.method} ${r.path}`).join(", ")}`);
            return 1;
        }
        const versions = (await this.api.nodes()).map((n) => n.status?.nodeInfo?.kubeletVersion);
        const blocked = blocks.map((b) => /^(?:warning: )?\[\d+\/\d+\] (\S+).*: BLOCKED/.exec(b)?.[1]).find(Boolean);
        if (blocked) out(`The plan says the roll would stop at ${blocked}: \`pulumi up\` would stop there, with ${blocked} cordoned.`);
        out(`Nothing was changed: the preview sent ${plural(requests.length, "request")} to the API server, all of them reads (GET),`);
        out(`and every node still runs ${[...new Set(versions)].join(", ")}. Run \`${this.command(false)}\` to roll the nodes.`);
        return 0;
    }

    async up(engine: LocalEngine, roll: () => pulumi.Output<RollingNodeUpgradeReport>): Promise<number> {
        const w = this.scenario.watch;
        let minReady = Infinity;
        let total = 0;
        const count = () => {
            const pods = this.sim
                .list("Pod", w.namespace)
                .filter((p) => !w.selector || p.metadata?.labels?.app === w.selector.split("=")[1]);
            const ready = pods.filter((p) => !p.metadata?.deletionTimestamp && isReady(p)).length;
            minReady = Math.min(minReady, ready);
            total = Math.max(total, pods.filter((p) => !p.metadata?.deletionTimestamp).length);
        };
        count();
        // Counted again after every change of a pod in the namespace (the simulator calls this synchronously for
        // each write): only a pod change can change the count, so its lowest point is never missed.
        const stopCounting = this.sim.subscribe((e) => {
            if (e.resource === "pods" && (e.object?.metadata?.namespace ?? e.old?.metadata?.namespace) === w.namespace) count();
        });

        out(`$ pulumi up   (local engine; roll order: ${this.scenario.nodes.join(" → ")}, control plane first, one node at a time)`);
        if (this.scenario.cluster === "seed") {
            out("The walkthrough started with worker1. The roll starts with master: control-plane nodes go first, because a");
            out("kubelet must never be newer than the API server, and on a kubeadm cluster each control-plane node brings its own.");
        }
        if (this.opts.scenario === "shared")
            out(
                wrap(
                    `Before each node's cordon the roll takes the lock. ${COLLEAGUE.who} holds it, so before ${this.scenario.nodes[0]}'s cordon ` +
                        `the roll waits (lockTimeout ${LOCK_TIMEOUT}), saying whom it waits for.`,
                    "",
                ),
            );
        this.started = Date.now();
        let result;
        try {
            result = await engine.run(roll, { config: libs.engine.stackConfig(this.config()), secretKeys: ["kubeconfig"] });
        } finally {
            stopCounting();
        }
        const took = seconds((Date.now() - this.started) / 1000);
        out();
        out(`━━ ${result.ok ? "The roll finished" : "The roll stopped"} after ${took} ━━`);
        out();
        await this.showCluster();
        out();

        if (!result.ok) return this.explainStop(result.error);

        const report = result.value as RollingNodeUpgradeReport;
        out("What the stack exports (nodeUpgradeReport), in short:");
        for (const n of report.nodes) {
            out(
                `  ${n.node.padEnd(14)} ${n.versionBefore} → ${n.versionAfter}   ${plural(n.evictedCount, "pod").padEnd(8)} evicted   drain ${seconds(n.drainSeconds)}   back Ready after ${seconds(n.readyWaitSeconds)}   ${seconds(n.totalSeconds)} in all`,
            );
        }
        out("  (real seconds; the simulated cluster's clock runs faster)");
        out();
        if (this.opts.scenario === "shared") {
            await this.showLockOutcome();
            out();
        }
        if (this.scenario.cluster === "seed") {
            out(
                `http-go: at least ${minReady} of ${total} pods were Ready at every moment of the roll (counted after every change to a pod)` +
                    (this.opts.pdb
                        ? "; the PodDisruptionBudget allowed one disruption at a time."
                        : this.opts.pacing
                          ? "; without a PodDisruptionBudget, per-workload pacing evicted one at a time, each once the previous replacement was Ready."
                          : "; with neither a budget nor pacing, each drain took every http-go pod on its node down at once."),
            );
        }
        return this.verify();
    }

    /** Checks through the API that every node is Ready, schedulable and at the target version. */
    private async verify(): Promise<number> {
        const nodes = await this.api.nodes();
        const problems: string[] = [];
        for (const name of this.scenario.nodes) {
            const n = nodes.find((x) => x.metadata?.name === name);
            if (!n) {
                problems.push(`${name}: not found`);
                continue;
            }
            const version = n.status?.nodeInfo?.kubeletVersion ?? "";
            if (!isReady(n)) problems.push(`${name}: not Ready`);
            if (n.spec?.unschedulable) problems.push(`${name}: still cordoned`);
            if (!sameVersion(version, this.target)) problems.push(`${name}: runs ${version}, not ${this.target}`);
        }
        let lockNote = "";
        if (this.opts.scenario === "shared") {
            const holder = (await this.api.lease(LOCK.namespace, LOCK.name))?.spec?.holderIdentity;
            if (holder) problems.push(`the Lease ${LOCK.namespace}/${LOCK.name} is still held by ${holder}`);
            if (this.lockWait?.releasedSim === undefined) problems.push(`the roll never waited for ${COLLEAGUE.who}'s lock`);
            lockNote = ` The Lease ${LOCK.namespace}/${LOCK.name} is free (no holder).`;
        }
        if (problems.length) {
            out(`error: the roll reported success but the cluster disagrees: ${problems.join("; ")}`);
            return 1;
        }
        out(`Checked through the API: ${this.scenario.nodes.join(", ")} are Ready, schedulable and run ${this.target}.${lockNote}`);
        return 0;
    }

    private async explainStop(error: Error | undefined): Promise<number> {
        out("Why it stopped (the error `pulumi up` shows):");
        if (this.failure) {
            out(`  ${this.failure.event.type} (${this.failure.event.name}):`);
            out(indent(`error: ${this.failure.error.message.trim()}`, "    "));
        } else {
            out(indent(`error: ${(error?.message ?? "unknown error").trim()}`, "    "));
        }
        out();
        const nodes = await this.api.nodes();
        const states = this.scenario.nodes.map((name) => {
            const n = nodes.find((x) => x.metadata?.name === name);
            return {
                name,
                status: nodeStatus(n),
                version: n?.status?.nodeInfo?.kubeletVersion ?? "?",
                done: !!n && sameVersion(n.status?.nodeInfo?.kubeletVersion ?? "", this.target),
            };
        });
        const done = states.filter((s) => s.done).map((s) => s.name);
        const stuck = states.find((s) => !s.done && s.status.includes("SchedulingDisabled"));
        const untouched = states.filter((s) => !s.done && s !== stuck).map((s) => s.name);
        out("Where that leaves the cluster:");
        if (done.length) out(`  - ${done.join(", ")}: upgraded to ${this.target} and uncordoned.`);
        if (stuck)
            out(
                `  - ${stuck.name}: stays cordoned (${stuck.status}, ${stuck.version}); pods that could leave have left, nothing was upgraded there.`,
            );
        if (untouched.length)
            out(`  - ${untouched.join(", ")}: not touched (the next nodes start only after the previous one is uncordoned).`);
        out();
        const atDrain = this.failure?.event.name.endsWith("-drain");
        const resumeAt = stuck?.name ?? "the failed node";
        if (atDrain) {
            out(
                wrap(
                    "That is the safe outcome: the roll never forces a pod past its budget, and stops before anything is changed on the " +
                        `node's host. Fix the cause (relax the budget, give the Deployment a second replica, or raise drainTimeout) and run ` +
                        `\`pulumi up\` again: the finished nodes are no-ops and the roll resumes at ${resumeAt}'s drain. The plan showed this ` +
                        `before anything ran: \`${this.command(true)}\`.`,
                    "",
                ),
            );
        } else {
            out(wrap(`Fix the cause and run \`pulumi up\` again: the finished nodes are no-ops and the roll resumes at ${resumeAt}.`, ""));
        }
        out(`Exit code ${EXIT_ROLL_STOPPED}: the roll stopped, as explained above.`);
        return EXIT_ROLL_STOPPED;
    }
}

export async function main(argv: string[]): Promise<number> {
    let opts: Options;
    try {
        opts = parseArgs(argv);
    } catch (err: any) {
        // Commander has printed its own usage errors ("error: unknown option ..."); help and --version exit 0.
        if (err instanceof CommanderError) return err.exitCode === 0 || err.code === "commander.helpDisplayed" ? 0 : 1;
        // Checks across options (parseArgs' own errors).
        process.stderr.write(`error: ${err?.message ?? err}\n(npm run demo -- --help lists the options)\n`);
        return 1;
    }
    const t0 = Date.now();
    out(`pulumi-node-upgrade demo: a node upgrade (cordon, drain, upgrade, wait Ready, uncordon) rolled by the package's`);
    out(`Pulumi program, node after node, against a simulated cluster.${opts.preview ? " Preview only: nothing will change." : ""}`);
    out();

    // The components load under mocks: the local engine is the mock monitor.
    await loadLibs();
    await libs.pulumi.runtime.setMocks(
        { newResource: () => ({ id: "", state: {} }), call: () => ({}) },
        "node-upgrade",
        "demo",
        opts.preview,
    );
    const components = await import("../components");

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "node-upgrade-demo-"));
    const kubeconfigPath = path.join(dir, "kubeconfig");
    let sim: SimCluster | undefined;
    let host: DynamicProviderHost | undefined;
    const cleanup = async () => {
        await host?.stop().catch(() => undefined);
        await sim?.stop().catch(() => undefined);
        fs.rmSync(dir, { recursive: true, force: true });
    };
    const onSignal = () => {
        out("\ninterrupted: stopping the demo (the simulated cluster goes away with it)");
        void cleanup().finally(() => process.exit(130));
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
        sim = await libs.sim.startCluster({ scenario: SCENARIOS[opts.scenario].cluster, timeScale: opts.timeScale, kubeconfigPath });
        if (SCENARIOS[opts.scenario].cluster === "seed" && opts.pdb) {
            sim.apply({
                apiVersion: "policy/v1",
                kind: "PodDisruptionBudget",
                metadata: { name: "http-go", namespace: "default" },
                spec: { maxUnavailable: 1, selector: { matchLabels: { app: "http-go" } } },
            });
            await sim.settle();
        }
        const demo = new Demo(opts, sim, kubeconfigPath);
        if (opts.scenario === "shared") await demo.colleagueTakesLock();
        await demo.intro();
        host = await libs.engine.DynamicProviderHost.start({ onOutput: demo.onHostLine });
        const engine = new libs.engine.LocalEngine(host, { cwd: libs.engine.REPO_ROOT, hooks: demo.hooks });
        const roll = () => components.rollFromConfig().report;
        const code = opts.preview ? await demo.preview(engine, roll) : await demo.up(engine, roll);
        out();
        out(`Demo finished in ${seconds((Date.now() - t0) / 1000)} (exit code ${code}).`);
        return code;
    } catch (err: any) {
        out(`error: the demo failed: ${err?.stack ?? err}`);
        return 1;
    } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        await cleanup();
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (err) => {
            process.stderr.write(`error: ${err?.stack ?? err}\n`);
            process.exit(1);
        },
    );
}
