// Assembles one simulated cluster: clock, store, API server, controllers,
// fault injector, scenario. startCluster() (re-exported from index.ts) is the
// programmatic entry point; cli.ts wraps it.

import * as fs from "node:fs";
import * as path from "node:path";
import { SimClock } from "./clock";
import { FaultInjector, FaultRule } from "./faults";
import { Prng } from "./random";
import { newToken, kubeconfigYaml, tlsMaterial } from "./apiserver/auth-tls";
import { Authorizer } from "./apiserver/authorizer";
import { Registry } from "./apiserver/registry";
import { ServiceAccountTokens } from "./apiserver/sa-tokens";
import { resolveResource, resourceByPlural } from "./apiserver/resources";
import { ApiServer, RequestLogEntry } from "./apiserver/server";
import { ApiError, badRequest, pathNotFound } from "./apiserver/status-errors";
import { Store, StoreEvent, clone, jsonOf } from "./apiserver/store";
import type { PolicyRule } from "./apiserver/rbac";
import { WatchHub } from "./apiserver/watch";
import { Controller, ControllerContext, DEFAULT_CONTROLLER_OPTIONS, ControllerOptions, KNOB_PREFIX } from "./controllers/controller";
import { DaemonSetController } from "./controllers/daemonset";
import { DeploymentController } from "./controllers/deployment";
import { DisruptionController } from "./controllers/disruption";
import { EventRecorder } from "./controllers/events";
import { GarbageCollector } from "./controllers/garbage-collector";
import { KubeletManager } from "./controllers/kubelet";
import { NamespaceController } from "./controllers/namespace";
import { NodeLifecycleController } from "./controllers/node-lifecycle";
import { NodeUpgrader } from "./controllers/node-upgrade";
import { ReplicaSetController } from "./controllers/replicaset";
import { Scheduler } from "./controllers/scheduler";
import { StatefulSetController } from "./controllers/statefulset";
import { loadObjects, resolveScenario } from "./scenarios";

export interface StartClusterOptions {
    scenario: "seed" | "pdb" | "large" | string /* file path */ | { kind: "List"; items: any[] };
    timeScale?: number; // default 1
    port?: number; // default 0 = random
    kubeconfigPath?: string; // if set, kubeconfig written there once serving
    nodes?: number;
    podsPerNode?: number; // for "large"
    seed?: number; // PRNG seed, default fixed
    startupDelaySeconds?: number; // simulated seconds before a new pod is Ready (default 2)
    // ---- extras ----
    /** bearer token (default: random) */
    token?: string;
    /** simulated seconds before the disruption controller recomputes a PDB (default 0) */
    disruptionDelaySeconds?: number;
    /** simulated seconds before the unschedulable taint follows a cordon (default 0.2) */
    taintDelaySeconds?: number;
    /** default NotReady time of a node upgrade (default 15) */
    upgradeDownSeconds?: number;
    /** how long a dead node keeps Ready before turning Unknown (default 40) */
    nodeMonitorGraceSeconds?: number;
    /** /version gitVersion (default: v1.20.0 for seed, v1.32.0 otherwise) */
    serverVersion?: string;
    /** number of store events kept for watch resumption (default 20000) */
    watchHistory?: number;
    /** write core/v1 Events from controllers (default true) */
    recordEvents?: boolean;
    /**
     * A second bearer token, bound to these RBAC rules (a ClusterRole's, e.g. from clusterRoleRulesFromFile
     * ("deploy/rbac.yaml")) and checked per request as kube-apiserver does (403 Forbidden with its message).
     * The cluster's `rbac.kubeconfig` uses it. The admin token keeps full access.
     */
    rbac?: { rules: PolicyRule[]; user: string; token?: string; kubeconfigPath?: string };
}

export interface FaultInjectorApi {
    add(rule: FaultRule): number;
    remove(id: number): boolean;
    clear(): void;
    list(): FaultRule[];
    injected(): number;
    injectedByType(): Record<string, number>;
    resetCounts(): void;
}

export interface SimCluster {
    url: string;
    kubeconfig: string;
    kubeconfigPath?: string;
    token: string;
    /** the restricted identity, when StartClusterOptions.rbac was given */
    rbac?: { user: string; token: string; kubeconfig: string; kubeconfigPath?: string; rules: PolicyRule[] };
    scenario: string;
    clock: {
        now(): Date;
        sleep(simSeconds: number): Promise<void>;
        timeScale: number;
        advance(simSeconds: number): void;
        /** Run `fn` after `simSeconds` of simulated time; returns an id for clearTimeout. */
        setTimeout(fn: () => void, simSeconds: number): number;
        clearTimeout(id: number | undefined): void;
        /** Simulated epoch ms of the earliest pending timer (see SimClock.nextDue); undefined when none. */
        nextDue(): number | undefined;
    };
    faults: FaultInjector;
    upgradeNode(name: string, version: string, opts?: { downSeconds?: number }): Promise<void>;
    setNodeDead(name: string, dead: boolean): void;
    get(kind: string, namespace: string | undefined, name: string): any | undefined;
    list(kind: string, namespace?: string): any[];
    apply(obj: any): any;
    /** delete through the API semantics (graceful for pods) */
    delete(kind: string, namespace: string | undefined, name: string, opts?: { gracePeriodSeconds?: number }): void;
    requestLog(): RequestLogEntry[];
    clearRequestLog(): void;
    /**
     * Expire the admin token and issue a new one (as a short-lived `kubectl create token` does): the old token now
     * gets 401. Returns the new kubeconfig (also written to kubeconfigPath); `token` and `kubeconfig` change too.
     */
    rotateToken(): string;
    waitFor(pred: () => boolean, simTimeoutSeconds?: number): Promise<void>;
    /** pause/resume the disruption controller (PDB status goes stale while paused) */
    pauseDisruption(paused: boolean): void;
    /** drop the watch history: older resourceVersions get 410 Gone */
    compactWatchHistory(): void;
    /** end every open watch stream (as an apiserver restart does); clients re-watch from their last resourceVersion */
    dropWatches(): void;
    /** called synchronously for every change of the store (every object write), e.g. to check invariants */
    subscribe(listener: (e: StoreEvent) => void): () => void;
    /** wait until the controllers have no queued work */
    settle(): Promise<void>;
    /**
     * True when no controller has queued work: nothing changes until a timer falls due (clock.nextDue) or
     * someone writes. settle() waits for this; a driver of the clock may check it without waiting.
     */
    idle(): boolean;
    /** errors recorded by controllers (for debugging tests) */
    controllerErrors(): string[];
    stop(): Promise<void>;
}

function kindResource(kind: string) {
    const r = resolveResource(kind);
    if (!r) throw new Error(`unknown kind ${JSON.stringify(kind)}`);
    return r;
}

const BUILTIN_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

export async function startCluster(opts: StartClusterOptions): Promise<SimCluster> {
    const timeScale = opts.timeScale ?? 1;
    const clock = new SimClock(timeScale);
    const seed = opts.seed ?? 1;
    const rng = new Prng(seed);
    const store = new Store();
    const registry = new Registry(store, clock, rng.fork(1));
    const faults = new FaultInjector(rng.fork(2));

    const scenario = resolveScenario(opts.scenario, clock.nowMs(), { nodes: opts.nodes, podsPerNode: opts.podsPerNode, seed });
    loadObjects(registry, scenario.list.items);
    const nsRes = resourceByPlural("namespaces")!;
    for (const ns of BUILTIN_NAMESPACES) {
        if (!store.get("namespaces", undefined, ns))
            registry.load(nsRes, { metadata: { name: ns, labels: { "kubernetes.io/metadata.name": ns } } });
    }
    const watchHub = new WatchHub(store, opts.watchHistory ?? 20000);

    const options: ControllerOptions = {
        ...DEFAULT_CONTROLLER_OPTIONS,
        ...(opts.startupDelaySeconds !== undefined ? { startupDelaySeconds: opts.startupDelaySeconds } : {}),
        ...(opts.disruptionDelaySeconds !== undefined ? { disruptionDelaySeconds: opts.disruptionDelaySeconds } : {}),
        ...(opts.taintDelaySeconds !== undefined ? { taintDelaySeconds: opts.taintDelaySeconds } : {}),
        ...(opts.upgradeDownSeconds !== undefined ? { upgradeDownSeconds: opts.upgradeDownSeconds } : {}),
        ...(opts.nodeMonitorGraceSeconds !== undefined ? { nodeMonitorGraceSeconds: opts.nodeMonitorGraceSeconds } : {}),
    };
    const events = new EventRecorder(registry, clock, rng.fork(3));
    events.enabled = opts.recordEvents ?? true;
    const ctx: ControllerContext = { registry, store, clock, rng: rng.fork(4), faults, events, options };
    const kubelets = new KubeletManager(ctx);
    const disruption = new DisruptionController(ctx);
    const controllers: Controller[] = [
        new NodeLifecycleController(ctx),
        kubelets,
        new Scheduler(ctx),
        new DeploymentController(ctx),
        new ReplicaSetController(ctx),
        new StatefulSetController(ctx),
        new DaemonSetController(ctx),
        disruption,
        new NamespaceController(ctx),
        new GarbageCollector(ctx),
    ];
    const upgrader = new NodeUpgrader(ctx, kubelets);
    for (const c of controllers) c.start();

    const idle = () => controllers.every((c) => c.idle());
    const settle = async () => {
        for (let i = 0; i < 200; i++) {
            await new Promise((r) => setImmediate(r));
            if (idle()) {
                await new Promise((r) => setImmediate(r));
                if (idle()) return;
            }
        }
    };
    await settle();

    const setNodeDead = (name: string, dead: boolean) => {
        const out = registry.mutate("nodes", undefined, name, (n) => {
            n.metadata.annotations ??= {};
            if (dead) n.metadata.annotations[`${KNOB_PREFIX}dead`] = "true";
            else delete n.metadata.annotations[`${KNOB_PREFIX}dead`];
        });
        if (!out) throw new Error(`node ${JSON.stringify(name)} not found`);
    };

    const simHandler = async (method: string, parts: string[], body: any): Promise<{ status: number; body: any }> => {
        if (parts[0] !== "v1") throw pathNotFound();
        const p = parts.slice(1);
        const ok = (status: number, message: string, extra: any = {}) => ({
            status,
            body: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", message, code: status, ...extra },
        });
        if (p[0] === "nodes" && p.length === 3 && p[2] === "upgrade" && method === "POST") {
            if (!body || typeof body.version !== "string")
                throw badRequest('body must be JSON like {"version":"v1.20.0","downSeconds":30}');
            if (body.downSeconds !== undefined && !(typeof body.downSeconds === "number" && body.downSeconds >= 0))
                throw badRequest("downSeconds must be a non-negative number");
            const r = upgrader.upgrade(p[1], body.version, { downSeconds: body.downSeconds });
            return ok(202, `upgrade of node ${r.node} to ${r.version} accepted`, {
                details: { name: r.node, kind: "nodes" },
                version: r.version,
                downSeconds: r.downSeconds,
            });
        }
        if (p[0] === "nodes" && p.length === 3 && p[2] === "dead" && (method === "POST" || method === "PUT")) {
            if (!registry.tryGet(nsResNodes, undefined, p[1]))
                throw new ApiError(404, "NotFound", `nodes "${p[1]}" not found`, { name: p[1], kind: "nodes" });
            setNodeDead(p[1], body?.dead !== false);
            return ok(200, `node ${p[1]} dead=${body?.dead !== false}`);
        }
        if (p[0] === "faults" && p.length === 1) {
            if (method === "GET") return { status: 200, body: faults.stats() };
            if (method === "DELETE") {
                faults.clear();
                return ok(200, "faults cleared");
            }
            if (method === "POST") {
                const rules: FaultRule[] = Array.isArray(body) ? body : [body];
                try {
                    const ids = rules.map((r) => faults.add(r));
                    return { status: 201, body: { ids } };
                } catch (e) {
                    throw badRequest((e as Error).message);
                }
            }
        }
        if (p[0] === "faults" && p.length === 2 && method === "DELETE") {
            if (!faults.remove(Number(p[1]))) throw new ApiError(404, "NotFound", `fault ${p[1]} not found`);
            return ok(200, `fault ${p[1]} removed`);
        }
        if (p[0] === "requests" && p.length === 1) {
            if (method === "GET") return { status: 200, body: { items: server.requestLog() } };
            if (method === "DELETE") {
                server.clearRequestLog();
                return ok(200, "request log cleared");
            }
        }
        if (p[0] === "clock" && p.length === 1 && method === "GET") {
            return { status: 200, body: { now: clock.now().toISOString(), timeScale } };
        }
        if (p[0] === "clock" && p[1] === "advance" && method === "POST") {
            const s = Number(body?.seconds);
            if (!(s >= 0)) throw badRequest('body must be JSON like {"seconds":60}');
            clock.advance(s);
            return { status: 200, body: { now: clock.now().toISOString(), timeScale } };
        }
        if (p[0] === "controllers" && p[1] === "disruption" && method === "POST") {
            if (body?.delaySeconds !== undefined) options.disruptionDelaySeconds = Number(body.delaySeconds) || 0;
            if (body?.paused !== undefined) {
                if (body.paused) disruption.paused = true;
                else disruption.resume();
            }
            return ok(200, `disruption controller paused=${disruption.paused} delaySeconds=${options.disruptionDelaySeconds}`);
        }
        if (p[0] === "watch" && p[1] === "compact" && method === "POST") {
            watchHub.compact();
            return ok(200, "watch history compacted");
        }
        throw pathNotFound();
    };
    const nsResNodes = resourceByPlural("nodes")!;

    const tls = await tlsMaterial();
    const token = opts.token ?? newToken();
    const rbac = opts.rbac ? { rules: opts.rbac.rules, user: opts.rbac.user, token: opts.rbac.token ?? newToken() } : undefined;
    if (rbac && rbac.token === token) throw new Error("the RBAC token must differ from the admin token");
    const authorizer = new Authorizer(store, rbac ? { user: rbac.user, rules: rbac.rules } : undefined);
    const server = new ApiServer({
        tls,
        token,
        clock,
        faults,
        ctx: { registry, watchHub, clock, authorizer, tokens: new ServiceAccountTokens(store, clock) },
        gitVersion: opts.serverVersion ?? scenario.serverVersion,
        simHandler,
        rbac,
    });
    await server.listen(opts.port ?? 0);
    const url = server.url();
    const kubeconfig = kubeconfigYaml(url, tls.cert, token);
    if (opts.kubeconfigPath) writeFileAtomic(opts.kubeconfigPath, kubeconfig);
    const rbacKubeconfig = rbac ? kubeconfigYaml(url, tls.cert, rbac.token, "sim", "node-upgrade") : undefined;
    if (rbac && opts.rbac?.kubeconfigPath) writeFileAtomic(opts.rbac.kubeconfigPath, rbacKubeconfig!);

    let stopped = false;
    const cluster: SimCluster = {
        url,
        kubeconfig,
        kubeconfigPath: opts.kubeconfigPath,
        token,
        rbac: rbac
            ? {
                  user: rbac.user,
                  token: rbac.token,
                  kubeconfig: rbacKubeconfig!,
                  kubeconfigPath: opts.rbac?.kubeconfigPath,
                  rules: rbac.rules,
              }
            : undefined,
        scenario: scenario.name,
        clock: {
            now: () => clock.now(),
            sleep: (s: number) => clock.sleep(s),
            timeScale,
            advance: (s: number) => clock.advance(s),
            setTimeout: (fn: () => void, s: number) => clock.setTimeout(fn, s),
            clearTimeout: (id: number | undefined) => clock.clearTimeout(id),
            nextDue: () => clock.nextDue(),
        },
        faults,
        rotateToken() {
            const fresh = newToken();
            server.setToken(fresh);
            cluster.token = fresh;
            cluster.kubeconfig = kubeconfigYaml(url, tls.cert, fresh);
            if (opts.kubeconfigPath) writeFileAtomic(opts.kubeconfigPath, cluster.kubeconfig);
            return cluster.kubeconfig;
        },
        async upgradeNode(name, version, o) {
            upgrader.upgrade(name, version, o ?? {});
        },
        setNodeDead,
        get(kind, namespace, name) {
            const r = kindResource(kind);
            const o = store.get(r.plural, r.namespaced ? (namespace ?? "default") : undefined, name);
            return o ? clone(o) : undefined;
        },
        list(kind, namespace) {
            const r = kindResource(kind);
            return store.list(r.plural, r.namespaced ? namespace : undefined).map((o) => clone(o));
        },
        apply(obj) {
            const r = resolveResource(obj?.kind ?? "");
            if (!r) throw new Error(`cannot apply object of kind ${JSON.stringify(obj?.kind)}`);
            const ns = r.namespaced ? (obj.metadata?.namespace ?? "default") : undefined;
            const current = store.get(r.plural, ns, obj.metadata?.name);
            if (!current) {
                if (ns && !store.get("namespaces", undefined, ns)) registry.load(nsRes, { metadata: { name: ns } }, false);
                return clone(registry.load(r, { ...obj, metadata: { ...obj.metadata, ...(ns ? { namespace: ns } : {}) } }, false));
            }
            const next = clone(obj);
            next.apiVersion = current.apiVersion;
            next.kind = current.kind;
            next.metadata = {
                ...next.metadata,
                name: current.metadata.name,
                uid: current.metadata.uid,
                creationTimestamp: current.metadata.creationTimestamp,
            };
            if (r.namespaced) next.metadata.namespace = ns;
            if (r.hasGeneration) {
                const specChanged = jsonOf(current.spec ?? null) !== JSON.stringify(next.spec ?? null);
                next.metadata.generation = (current.metadata.generation ?? 1) + (specChanged ? 1 : 0);
            }
            if (next.status === undefined && current.status !== undefined) next.status = clone(current.status);
            if (current.metadata.deletionTimestamp && next.metadata.deletionTimestamp === undefined) {
                next.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
                next.metadata.deletionGracePeriodSeconds = current.metadata.deletionGracePeriodSeconds;
            }
            delete next.metadata.resourceVersion;
            return clone(registry.writeUpdate(r, current, next, {}));
        },
        delete(kind, namespace, name, o) {
            const r = kindResource(kind);
            registry.delete(r, r.namespaced ? (namespace ?? "default") : undefined, name, o ?? {});
        },
        requestLog: () => server.requestLog(),
        clearRequestLog: () => server.clearRequestLog(),
        async waitFor(pred, simTimeoutSeconds = 120) {
            const deadline = Date.now() + clock.realMs(simTimeoutSeconds);
            for (;;) {
                if (pred()) return;
                if (Date.now() > deadline) throw new Error(`waitFor: condition not met within ${simTimeoutSeconds} simulated seconds`);
                await new Promise((r) => setTimeout(r, 5));
            }
        },
        pauseDisruption(paused) {
            if (paused) disruption.paused = true;
            else disruption.resume();
        },
        compactWatchHistory: () => watchHub.compact(),
        dropWatches: () => void watchHub.closeAll("dropped"),
        subscribe: (listener) => store.subscribe(listener),
        settle,
        idle,
        controllerErrors: () => controllers.flatMap((c) => c.errors),
        async stop() {
            if (stopped) return;
            stopped = true;
            for (const c of controllers) c.stop();
            clock.stop();
            await server.close();
        },
    };
    return cluster;
}

/** Write via a temp file + rename, so readers never see a half-written kubeconfig. */
export function writeFileAtomic(file: string, text: string): void {
    const dir = path.dirname(path.resolve(file));
    fs.mkdirSync(dir, { recursive: true });
    const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    fs.renameSync(tmp, file);
}
