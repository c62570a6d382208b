// Putting it together. `preflight` is what preview / plan print: the current state of every configured item (who
// holds the lock, kured's lock, which gates block now, is the window open), without changing anything.
// `acquireAndCheck` is what `up` / the CLI call BEFORE the first cordon: it waits (bounded, reporting progress)
// for the window, the Lease, kured's lock and the health gates, takes the locks, and fails with an error naming
// the holder / alert / pod / window when its time is up — releasing whatever it took. Nothing is cordoned here.
import type { KubeConfig } from "@kubernetes/client-node";
import {
    allGates,
    checkGate,
    DEFAULT_LOCK_POLL_MS,
    formatMs,
    GateBlockedError,
    systemClock,
    waitUntil,
    type Clock,
    type Gate,
    type GateResult,
} from "./gate";
import type { SharedClusterEvent, SharedClusterItem, SharedClusterProgress } from "./events";
import { holderIdentity as makeHolderIdentity } from "./holder";
import {
    acquireLease,
    evaluateLease,
    leaseGateResult,
    leaseKey,
    readLease,
    type HeldLease,
    type LeaseRef,
    type LeaseState,
} from "./lease-lock";
import {
    acquireKuredLock,
    evaluateKuredLock,
    kuredGateResult,
    kuredLockGate,
    kuredNodeId,
    readKuredLock,
    type HeldKuredLock,
    type KuredLockOptions,
    type KuredLockState,
} from "./kured-lock";
import {
    evaluateWindow,
    nextClosing,
    nextOpening,
    isOpen,
    parseMaintenanceWindow,
    windowGate,
    type MaintenanceWindow,
    type MaintenanceWindowSpec,
} from "./window";
import { blockingPodsGate, evaluateBlockingPods, listMatchingPods, type BlockingPodsOptions } from "./gates/pods";
import { prometheusAlertsGate, prometheusQueryGate, type PrometheusAlertsOptions, type PrometheusQueryOptions } from "./gates/prometheus";
import { checkCommandGate, commandText, type CheckCommandOptions } from "./gates/command";
import { namespaceProblem, objectNameProblem, pollMsProblem, waitMsProblem } from "./rules";

/** One health gate, as configuration (Pulumi inputs, CLI flags, YAML). */
export type GateSpec =
    | ({ type: "pods" } & BlockingPodsOptions)
    | ({ type: "alerts" } & PrometheusAlertsOptions)
    | ({ type: "query" } & PrometheusQueryOptions)
    | ({ type: "command" } & CheckCommandOptions);

export interface LockSettings extends LeaseRef {
    /** TTL, default 60 s. */
    leaseDurationSeconds?: number;
    /** Default TTL/3. */
    renewIntervalMs?: number;
    /** How long to wait for another holder. Default 0: fail at once, naming the holder. */
    timeoutMs?: number;
    /** Pause between checks while another holder has it. Default: the top-level pollMs if set, else 1 s. */
    pollMs?: number;
}

export interface KuredSettings extends KuredLockOptions {
    /** Take kured's lock while we roll, so kured does not reboot a node meanwhile. Default true; false: only wait. */
    take?: boolean;
    /** How long to wait while a node holds kured's lock. Default 0. */
    timeoutMs?: number;
    /** Pause between checks while a node holds it. Default: the top-level pollMs if set, else 1 s. */
    pollMs?: number;
}

export interface SharedClusterOptions {
    /** Written into the Lease and kured's lock. Default holderIdentity({ tool: "cli" }). */
    holderIdentity?: string;
    /** The Lease lock: true for the defaults (kube-system/node-upgrade). */
    lock?: boolean | LockSettings;
    /** kured interop: true for the defaults (kube-system/kured, weave.works/kured-node-lock). */
    kuredLock?: boolean | KuredSettings;
    gates?: GateSpec[];
    /** How long to wait for the gates to pass. Default 0: fail at once. */
    gatesTimeoutMs?: number;
    window?: string | MaintenanceWindowSpec;
    /** Wait this long for a closed window to open. Default 0: fail at once with when it opens. */
    windowWaitMs?: number;
    /** Appended to the "outside the window" message. Default "run `pulumi up` again then". */
    windowHint?: string;
    /**
     * Pause between checks while waiting. Default 5 s for the window and the gates, 1 s for the locks (a release
     * is noticed within a second); lock.pollMs / kuredLock.pollMs override it for one lock.
     */
    pollMs?: number;
}

const lockSettings = (o: SharedClusterOptions): LockSettings | undefined => (o.lock === true ? {} : o.lock || undefined);
const kuredSettings = (o: SharedClusterOptions): KuredSettings | undefined => (o.kuredLock === true ? {} : o.kuredLock || undefined);

/**
 * Pure: every configuration problem (bad window, names, time limits, regexp, matcher, selector, command), [] when
 * fine. The one validation of these options (the rules are in rules.ts): the components call it at construction,
 * the CLI after parsing its flags, and acquireAndCheck once before it starts.
 */
export function validateSharedClusterOptions(o: SharedClusterOptions): string[] {
    const problems: string[] = [];
    const add = (what: string, problem: string | undefined) => {
        if (problem) problems.push(`${what}: ${problem}`);
    };
    const tryIt = (what: string, f: () => unknown) => {
        try {
            f();
        } catch (err) {
            problems.push(`${what}: ${(err as Error).message}`);
        }
    };
    if (o.window !== undefined) tryIt("window", () => parseMaintenanceWindow(o.window!));
    const lock = lockSettings(o);
    if (lock?.namespace !== undefined) add("lock", namespaceProblem(lock.namespace));
    if (lock?.name !== undefined) add("lock", objectNameProblem("Lease", lock.name));
    if (lock?.leaseDurationSeconds !== undefined && !(Number.isInteger(lock.leaseDurationSeconds) && lock.leaseDurationSeconds >= 1))
        problems.push(`lock: leaseDurationSeconds must be a whole number ≥ 1, not ${lock.leaseDurationSeconds}`);
    const kured = kuredSettings(o);
    if (kured?.namespace !== undefined) add("kuredLock", namespaceProblem(kured.namespace));
    if (kured?.daemonSet !== undefined) add("kuredLock", objectNameProblem("DaemonSet", kured.daemonSet));
    // "lock: pollMs must be a number > 0, not 0"
    const field = (what: string, v: unknown, rule: (v: unknown) => string | undefined) => {
        const problem = v === undefined ? undefined : rule(v);
        if (problem) problems.push(`${what} ${problem}`);
    };
    field("pollMs", o.pollMs, pollMsProblem);
    field("lock: pollMs", lock?.pollMs, pollMsProblem);
    field("kuredLock: pollMs", kured?.pollMs, pollMsProblem);
    field("lock: timeoutMs", lock?.timeoutMs, waitMsProblem);
    field("kuredLock: timeoutMs", kured?.timeoutMs, waitMsProblem);
    field("gatesTimeoutMs", o.gatesTimeoutMs, waitMsProblem);
    field("windowWaitMs", o.windowWaitMs, waitMsProblem);
    (o.gates ?? []).forEach((g, i) => tryIt(`gates[${i}] (${(g as any)?.type})`, () => makeGate(undefined as any, g, "validation-node")));
    return problems;
}

function makeGate(kc: KubeConfig, spec: GateSpec, node: string | undefined): Gate {
    switch (spec?.type) {
        case "pods":
            return blockingPodsGate(kc, spec, node);
        case "alerts":
            return prometheusAlertsGate(spec);
        case "query":
            return prometheusQueryGate(spec);
        case "command":
            return checkCommandGate(spec, node);
        default:
            throw new Error(`unknown gate type ${JSON.stringify((spec as any)?.type)}: use pods, alerts, query or command`);
    }
}

const needsNode = (g: GateSpec) => g.type === "pods" && (g.scope ?? "node") === "node";

export interface PreflightItem {
    item: SharedClusterItem;
    /** e.g. "lease kube-system/node-upgrade", "Prometheus alerts at http://…", "maintenance window". */
    name: string;
    /** false: this would block (or fail) right now. */
    ok: boolean;
    /** What was seen; names the holder / alert / pod / window. */
    message: string;
    /** Lease or kured lock holder, when someone holds it. */
    holder?: string;
    /** Not evaluated (e.g. a per-node gate without a node, a check command when runCheckCommands is false). */
    skipped?: boolean;
}

export interface PreflightReport {
    node?: string;
    /** Every item is ok (nothing would block now). */
    ok: boolean;
    items: PreflightItem[];
    lease?: LeaseState;
    kured?: KuredLockState;
    window?: { open: boolean; opensAt?: Date; closesAt?: Date };
}

export interface PreflightContext {
    clock?: Clock;
    signal?: AbortSignal;
    /** Run check commands (they are health checks and must not change anything). Default true. */
    runCheckCommands?: boolean;
}

/**
 * Read-only: the state of every configured item for `node` (or before the roll, without a node: per-node gates
 * are then reported as skipped). Reading errors become not-ok items with the error, never exceptions.
 */
export async function preflight(
    kc: KubeConfig,
    o: SharedClusterOptions,
    node?: string,
    ctx: PreflightContext = {},
): Promise<PreflightReport> {
    const clock = ctx.clock ?? systemClock;
    const me = o.holderIdentity;
    const items: PreflightItem[] = [];
    const report: PreflightReport = { node, ok: true, items };

    if (o.window !== undefined) {
        try {
            const w = parseMaintenanceWindow(o.window);
            const now = new Date(clock.now());
            const r = evaluateWindow(w, now, { hint: o.windowHint });
            report.window = { open: isOpen(w, now), opensAt: nextOpening(w, now), closesAt: nextClosing(w, now) };
            items.push({ item: "window", name: "maintenance window", ok: r.ok, message: r.ok ? r.detail! : r.reason });
        } catch (err) {
            items.push({ item: "window", name: "maintenance window", ok: false, message: (err as Error).message });
        }
    }

    const lock = lockSettings(o);
    if (lock) {
        const name = `lease ${leaseKey(lock)}`;
        try {
            const state = await readLease(kc, lock, { signal: ctx.signal });
            report.lease = state;
            const v = evaluateLease(state, me, clock.now(), lock.leaseDurationSeconds);
            const r = leaseGateResult(leaseKey(lock), v);
            items.push({
                item: "lease",
                name,
                ok: r.ok,
                message: r.ok ? r.detail! : r.reason,
                holder: v.status === "held" || v.status === "expired" ? v.holder : v.status === "ours" ? me : undefined,
            });
        } catch (err) {
            items.push({ item: "lease", name, ok: false, message: (err as Error).message });
        }
    }

    const kured = kuredSettings(o);
    if (kured) {
        const name = `kured lock ${kured.namespace ?? "kube-system"}/${kured.daemonSet ?? "kured"}`;
        try {
            const state = await readKuredLock(kc, kured, { signal: ctx.signal, timeoutMs: kured.requestTimeoutMs });
            report.kured = state;
            const v = evaluateKuredLock(state, me ? kuredNodeId(me) : undefined, clock.now(), kured.assumedTtlSeconds);
            const r = kuredGateResult(state, v);
            items.push({
                item: "kured",
                name,
                ok: r.ok,
                message: r.ok ? r.detail! : r.reason,
                holder: v.status === "held" ? v.holders.map((h) => h.nodeID).join(", ") : undefined,
            });
        } catch (err) {
            items.push({ item: "kured", name, ok: false, message: (err as Error).message });
        }
    }

    const checks = await Promise.all(
        (o.gates ?? []).map(async (spec): Promise<PreflightItem> => {
            if (needsNode(spec) && !node) {
                const sel = (spec as BlockingPodsOptions).selector;
                return {
                    item: "gates",
                    name: `blocking pods ${sel}`,
                    ok: true,
                    skipped: true,
                    message: `checked per node (pods matching ${sel} on the node)`,
                };
            }
            let gate: Gate;
            try {
                gate = makeGate(kc, spec, node);
            } catch (err) {
                return { item: "gates", name: `${(spec as any)?.type ?? "?"} gate`, ok: false, message: (err as Error).message };
            }
            if (spec.type === "command" && ctx.runCheckCommands === false)
                return { item: "gates", name: gate.name, ok: true, skipped: true, message: "not run in this preview" };
            const r = await checkGate(gate, ctx.signal);
            return { item: "gates", name: gate.name, ok: r.ok, message: r.ok ? (r.detail ?? "passes") : r.reason };
        }),
    );
    items.push(...checks);
    report.ok = items.every((i) => i.ok);
    return report;
}

/** Whether one node of the roll would start now, and if not, what blocks it (cluster-wide items included). */
export interface NodeStart {
    node: string;
    startNow: boolean;
    blockers: string[];
}

/** The read-only report before a roll: the items now (no node), then per node whether it would start now. */
export interface RollPreflight {
    ok: boolean;
    report: PreflightReport;
    nodes: NodeStart[];
}

/** How many check commands run at once when preview or plan judges every node. */
const COMMANDS_AT_ONCE = 4;

/**
 * What `node-upgrade plan` and `pulumi preview` show: `preflight` without a node (locks, window, cluster-wide
 * gates), then for every node what `up` checks before its cordon: the node-scoped blocking-pod gates (each lists
 * its pods once for the whole cluster and judges every node from that list, so a preview of 1,000 nodes sends
 * one request per gate, not one per node) and the check commands, run once per node with NODE_NAME set as `up`
 * runs them (a few at a time; not at all when ctx.runCheckCommands is false).
 */
export async function rollPreflight(
    kc: KubeConfig,
    o: SharedClusterOptions,
    nodes: string[],
    ctx: PreflightContext = {},
): Promise<RollPreflight> {
    const gates = o.gates ?? [];
    const commands = gates.filter((g): g is CheckCommandOptions & { type: "command" } => g.type === "command");
    const report = await preflight(kc, { ...o, gates: gates.filter((g) => g.type !== "command") }, undefined, ctx);
    const runCommands = ctx.runCheckCommands !== false;
    for (const spec of commands)
        report.items.push({
            item: "gates",
            name: `check command ${commandText(spec.command ?? [])}`,
            ok: true,
            skipped: true,
            message: runCommands ? "run for each node, with NODE_NAME set (see each node)" : "not run in this preview",
        });
    // Cluster-wide blockers by name: the report above the nodes says what each one saw.
    const global = report.items.filter((i) => !i.ok && !i.skipped).map((i) => i.name);
    const perNode = gates.filter(needsNode) as Array<BlockingPodsOptions & { type: "pods" }>;
    // Each judge gives a node's blocker (the reason alone: it names the selector or command) or undefined.
    const judges: Array<(node: string) => Promise<string | undefined>> = await Promise.all(
        perNode.map(async (spec) => {
            try {
                const pods = await listMatchingPods(kc, { ...spec, scope: "cluster" }, undefined, ctx.signal);
                return async (node: string) => {
                    const r = evaluateBlockingPods(pods, { selector: spec.selector, scope: "node", node });
                    return r.ok ? undefined : r.reason;
                };
            } catch (err) {
                if (ctx.signal?.aborted) throw ctx.signal.reason;
                const message = (err as Error).message;
                return async () => message;
            }
        }),
    );
    if (runCommands)
        for (const spec of commands)
            judges.push(async (node) => {
                let r: GateResult;
                try {
                    r = await checkGate(checkCommandGate(spec, node), ctx.signal);
                } catch (err) {
                    if (ctx.signal?.aborted) throw ctx.signal.reason;
                    return (err as Error).message;
                }
                return r.ok ? undefined : r.reason;
            });
    const starts: NodeStart[] = new Array(nodes.length);
    let next = 0;
    const worker = async () => {
        for (let i = next++; i < nodes.length; i = next++) {
            const node = nodes[i];
            const found = await Promise.all(judges.map((judge) => judge(node)));
            const blockers = [...global, ...found.filter((b): b is string => b !== undefined)];
            starts[i] = { node, startNow: blockers.length === 0, blockers };
        }
    };
    await Promise.all(Array.from({ length: Math.min(COMMANDS_AT_ONCE, nodes.length) }, worker));
    return { ok: report.ok && starts.every((n) => n.startNow), report, nodes: starts };
}

/** The line under a node of the plan (and of the preview). */
export function startNowLine(n: NodeStart): string {
    return n.startNow ? "start now: yes" : `start now: no, blocked by ${n.blockers.join("; ")}`;
}

/** Lines for a preview / plan: "✓ lease kube-system/node-upgrade: …" / "✗ …" / "- … (skipped)". */
export function formatPreflight(report: PreflightReport): string[] {
    return report.items.map((i) => `${i.skipped ? "-" : i.ok ? "✓" : "✗"} ${i.name}: ${i.message}`);
}

/** acquireAndCheck could not start: `item` says what blocked, the message names the holder / alert / pod / window. */
export class SharedClusterBlockedError extends Error {
    constructor(
        readonly item: SharedClusterItem,
        message: string,
        readonly gateError?: GateBlockedError,
    ) {
        super(message);
        this.name = "SharedClusterBlockedError";
    }
}

/** What acquireAndCheck holds; release() when the roll is done (or failed). */
export interface SharedClusterSession {
    holderIdentity: string;
    lease?: HeldLease;
    kured?: HeldKuredLock;
    /** Throws if a lock we hold was lost: call before cordoning each further node. */
    assertHeld(): void;
    /** Window + health gates for the next node while we hold the locks (waits up to gatesTimeoutMs). */
    checkNode(node: string): Promise<void>;
    /** Releases kured's lock and the Lease (only what is still ours). Idempotent. */
    release(): Promise<void>;
}

export interface AcquireContext {
    clock?: Clock;
    signal?: AbortSignal;
    onProgress?: SharedClusterProgress;
    /** A lock we hold was lost while the roll runs (the caller should stop before the next cordon). */
    onLost?: (err: Error) => void;
}

function rethrow(item: SharedClusterItem, err: unknown): never {
    if (err instanceof GateBlockedError) throw new SharedClusterBlockedError(item, `not starting: ${err.message}`, err);
    throw err;
}

/** Window and gates for one node (no locks): waits, then resolves or throws SharedClusterBlockedError. */
export async function checkWindowAndGates(
    kc: KubeConfig,
    o: SharedClusterOptions,
    node: string | undefined,
    ctx: AcquireContext = {},
    waitForWindow = true,
): Promise<void> {
    const clock = ctx.clock ?? systemClock;
    const report = (e: SharedClusterEvent) => ctx.onProgress?.(e);
    const waitOpts = { clock, signal: ctx.signal, pollMs: o.pollMs };
    if (o.window !== undefined) {
        const w: MaintenanceWindow = parseMaintenanceWindow(o.window);
        const wait = waitForWindow && (o.windowWaitMs ?? 0) > 0;
        try {
            await waitUntil(
                windowGate(w, { clock, hint: o.windowHint, wait }),
                wait ? o.windowWaitMs! : 0,
                (p) => report({ item: "window", phase: "waiting", message: `waiting: ${p.reason} (${formatMs(p.remainingMs)} left)` }),
                waitOpts,
            );
        } catch (err) {
            rethrow("window", err);
        }
    }
    const gates = (o.gates ?? []).filter((g) => node || !needsNode(g)).map((g) => makeGate(kc, g, node));
    if (gates.length) {
        try {
            const ok = await waitUntil(
                allGates(node ? `health gates for ${node}` : "health gates", gates),
                o.gatesTimeoutMs ?? 0,
                (p) =>
                    report({
                        item: "gates",
                        phase: "waiting",
                        message: `waiting for ${p.gate}: ${p.reason} (${formatMs(p.remainingMs)} left)`,
                    }),
                waitOpts,
            );
            report({ item: "gates", phase: "ok", message: `health gates pass${ok.detail ? `: ${ok.detail}` : ""}` });
        } catch (err) {
            rethrow("gates", err);
        }
    }
}

/**
 * Before anything is cordoned: checks the window, takes the Lease (waiting for its holder up to lock.timeoutMs),
 * waits for and takes kured's lock, waits for the health gates, and re-checks the window. On failure it releases
 * what it took and throws a SharedClusterBlockedError naming the blocker; configuration errors throw at once.
 */
export async function acquireAndCheck(
    kc: KubeConfig,
    o: SharedClusterOptions,
    node?: string,
    ctx: AcquireContext = {},
): Promise<SharedClusterSession> {
    const problems = validateSharedClusterOptions(o);
    if (problems.length) throw new Error(`invalid shared-cluster options: ${problems.join("; ")}`);
    const clock = ctx.clock ?? systemClock;
    const me = o.holderIdentity ?? makeHolderIdentity({ tool: "cli" });
    const progress = ctx.onProgress;
    let lease: HeldLease | undefined;
    let kured: HeldKuredLock | undefined;
    const release = async () => {
        const errors: string[] = [];
        await kured?.release().catch((e) => errors.push((e as Error).message));
        await lease?.release().catch((e) => errors.push((e as Error).message));
        if (errors.length) throw new Error(`releasing the locks failed: ${errors.join("; ")}`);
    };
    try {
        // 1. a closed window fails before we take anything (or waits, with windowWaitMs)
        if (o.window !== undefined)
            await checkWindowAndGates(
                kc,
                { window: o.window, windowWaitMs: o.windowWaitMs, windowHint: o.windowHint, pollMs: o.pollMs },
                node,
                ctx,
            );
        // 2. the Lease
        const lock = lockSettings(o);
        if (lock) {
            try {
                lease = await acquireLease(
                    kc,
                    { ...lock, holderIdentity: me },
                    {
                        clock,
                        signal: ctx.signal,
                        onProgress: progress,
                        onLost: ctx.onLost,
                        timeoutMs: lock.timeoutMs ?? 0,
                        pollMs: lock.pollMs ?? o.pollMs ?? DEFAULT_LOCK_POLL_MS,
                    },
                );
            } catch (err) {
                rethrow("lease", err);
            }
        }
        // 3. kured's lock: wait while a node holds it; take it unless told not to
        const ks = kuredSettings(o);
        if (ks) {
            try {
                if (ks.take === false) {
                    await waitUntil(
                        kuredLockGate(kc, { ...ks, holderIdentity: me }, clock),
                        ks.timeoutMs ?? 0,
                        (p) =>
                            progress?.({
                                item: "kured",
                                phase: "waiting",
                                message: `waiting: ${p.reason} (${formatMs(p.remainingMs)} left)`,
                            }),
                        { clock, signal: ctx.signal, pollMs: ks.pollMs ?? o.pollMs ?? DEFAULT_LOCK_POLL_MS },
                    );
                } else {
                    kured = await acquireKuredLock(
                        kc,
                        { ...ks, holderIdentity: me },
                        {
                            clock,
                            signal: ctx.signal,
                            onProgress: progress,
                            onLost: ctx.onLost,
                            timeoutMs: ks.timeoutMs ?? 0,
                            pollMs: ks.pollMs ?? o.pollMs ?? DEFAULT_LOCK_POLL_MS,
                        },
                    );
                }
            } catch (err) {
                rethrow("kured", err);
            }
        }
        // 4. health gates (and 5. the window again, without waiting: the waits above may have run past its end)
        await checkWindowAndGates(kc, { ...o, window: undefined }, node, ctx);
        if (o.window !== undefined) await checkWindowAndGates(kc, { window: o.window, windowHint: o.windowHint }, node, ctx, false);
    } catch (err) {
        await release().catch((e) => progress?.({ item: "lease", phase: "info", message: (e as Error).message }));
        throw err;
    }
    return {
        holderIdentity: me,
        lease,
        kured,
        assertHeld() {
            lease?.assertHeld();
            if (kured?.lost) throw kured.lost;
        },
        checkNode: (n: string) => checkWindowAndGates(kc, o, n, ctx),
        release,
    };
}
