// Small clusters for the drain tests, built with the simulator's scenario builders, plus helpers to run the
// simulator, the node-upgrade CLI and kubectl as processes.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Prng } from "../../sim/random";
import {
    BuildContext,
    buildBaseCluster,
    buildDeployment,
    buildNamespace,
    buildPdb,
    buildPod,
    buildTemplate,
    PlacedPod,
    workerNodeSpecs,
} from "../../sim/scenarios/builders";
import { startCluster, type SimCluster, type StartClusterOptions } from "../../sim";
import type { KubeConfig } from "@kubernetes/client-node";
import { loadKubeConfig } from "../../drain/kube-client";

export interface Fixture {
    ctx: BuildContext;
    nodes: Map<string, any>;
    items: any[];
}

/** Ready worker nodes (default w1..w3), namespaces default and kube-system, a kube-proxy DaemonSet pod per node. */
export function cluster(nodeNames = ["w1", "w2", "w3"], seed = 7): Fixture {
    const ctx: BuildContext = { rng: new Prng(seed), nowMs: Date.now() };
    const nodes = workerNodeSpecs(nodeNames, { version: "v1.28.5", pods: "250", cpu: "64", memory: "256Gi" });
    return { ctx, ...buildBaseCluster(ctx, nodes, { kubeProxy: { image: "kube-proxy:v1.28.5" } }) };
}

export interface DeploymentOptions {
    ns?: string;
    replicas?: number;
    emptyDir?: boolean;
    grace?: number;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
}

let hashCounter = 0;
/** A Deployment (+ ReplicaSet) with pods placed on the given nodes. Pod names are `<name>-<hash>-<i>`. */
export function deployment(f: Fixture, name: string, placement: string[], o: DeploymentOptions = {}): any[] {
    const hash = `${(++hashCounter).toString(36)}7f9c6b5d`.slice(0, 9);
    const pods: PlacedPod[] = placement.map((node, i) => ({ name: `${name}-${hash}-p${i}`, node }));
    const objs = buildDeployment(
        f.ctx,
        {
            namespace: o.ns ?? "default",
            name,
            rsHash: hash,
            replicas: o.replicas ?? pods.length,
            template: {
                labels: { app: name, ...(o.labels ?? {}) },
                emptyDir: o.emptyDir,
                terminationGracePeriodSeconds: o.grace,
                annotations: o.annotations,
                containers: [{ name: "app", image: "nginx:1.25", cpu: "1m", memory: "1Mi" }],
            },
            pods,
        },
        f.nodes,
    );
    f.items.push(...objs);
    return objs;
}

export function pdb(
    f: Fixture,
    name: string,
    app: string,
    spec: { minAvailable?: number | string; maxUnavailable?: number | string },
    ns = "default",
): any {
    const p = buildPdb(f.ctx, ns, name, { app }, spec);
    f.items.push(p);
    return p;
}

export function namespace(f: Fixture, name: string, annotations?: Record<string, string>): any {
    const ns = buildNamespace(f.ctx, name);
    if (annotations) ns.metadata.annotations = { ...(ns.metadata.annotations ?? {}), ...annotations };
    f.items.push(ns);
    return ns;
}

export interface BarePodOptions {
    ns?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    emptyDir?: boolean;
    phase?: "Succeeded" | "Failed";
    finalizers?: string[];
    grace?: number;
    owner?: any;
}

export function barePod(f: Fixture, name: string, node: string, o: BarePodOptions = {}): any {
    const tpl = buildTemplate({
        labels: o.labels ?? { app: name },
        annotations: o.annotations,
        emptyDir: o.emptyDir,
        terminationGracePeriodSeconds: o.grace,
        containers: [{ name: "c", image: "busybox:1.36" }],
    });
    const pod = buildPod(f.ctx, o.ns ?? "default", tpl, o.owner, { name, node }, f.nodes.get(node));
    if (o.phase) {
        pod.status.phase = o.phase;
        pod.status.conditions = pod.status.conditions.map((c: any) =>
            c.type === "Ready" || c.type === "ContainersReady" ? { ...c, status: "False", reason: "PodCompleted" } : c,
        );
        pod.status.containerStatuses = pod.status.containerStatuses.map((s: any) => ({
            ...s,
            ready: false,
            state: { terminated: { exitCode: o.phase === "Succeeded" ? 0 : 1, reason: "Completed" } },
        }));
    }
    if (o.finalizers) pod.metadata.finalizers = o.finalizers;
    f.items.push(pod);
    return pod;
}

export function asList(f: Fixture): { kind: "List"; items: any[] } {
    return { kind: "List", items: JSON.parse(JSON.stringify(f.items)) };
}

const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "drain-tests-"));
let kubeconfigCounter = 0;

/** Starts a simulated cluster and writes its kubeconfig to a fresh file. */
export async function startSim(
    scenario: StartClusterOptions["scenario"],
    opts: Partial<StartClusterOptions> = {},
): Promise<SimCluster & { kubeconfigPath: string }> {
    const kubeconfigPath = path.join(tmpDir, `kubeconfig-${process.pid}-${++kubeconfigCounter}`);
    const c = await startCluster({ scenario, timeScale: 10, ...opts, kubeconfigPath });
    return Object.assign(c, { kubeconfigPath });
}

export interface ProcessResult {
    code: number | null;
    stdout: string;
    stderr: string;
    /** wall time in ms */
    ms: number;
    /** Date.now() when the process exited */
    exitedAt: number;
}

/** Runs a command to completion (async, so an in-process simulator keeps serving). */
export function runProcess(
    cmd: string,
    args: string[],
    env: NodeJS.ProcessEnv = {},
    timeoutMs = 120_000,
    cwd?: string,
): Promise<ProcessResult> {
    return new Promise((resolve, reject) => {
        const started = Date.now();
        const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            const exitedAt = Date.now();
            resolve({ code, stdout, stderr, ms: exitedAt - started, exitedAt });
        });
    });
}

export const NODE_UPGRADE = path.resolve(__dirname, "../../cli/main.js");
export const KUBECTL = process.env.KUBECTL ?? "/usr/bin/kubectl";

/** `node-upgrade <args> --kubeconfig <file>` as a process. */
export function nodeUpgrade(kubeconfigPath: string, args: string[], timeoutMs?: number): Promise<ProcessResult> {
    return runProcess(process.execPath, [NODE_UPGRADE, ...args, `--kubeconfig=${kubeconfigPath}`], {}, timeoutMs);
}

/** `kubectl <args> --kubeconfig <file>` as a process, with a private discovery cache. */
export function kubectl(kubeconfigPath: string, args: string[], timeoutMs?: number): Promise<ProcessResult> {
    const cacheDir = fs.mkdtempSync(path.join(tmpDir, "kcache-"));
    return runProcess(KUBECTL, [...args, `--kubeconfig=${kubeconfigPath}`, `--cache-dir=${cacheDir}`], {}, timeoutMs);
}

/** Pods currently bound to `node`, as "ns/name" sorted. */
export function podsOnNode(c: SimCluster, node: string): string[] {
    return c
        .list("Pod")
        .filter((p: any) => p.spec?.nodeName === node)
        .map((p: any) => `${p.metadata.namespace}/${p.metadata.name}`)
        .sort();
}

/**
 * Inside a describe(): a function that starts a simulator (with a KubeConfig for it) that is stopped after the
 * current test.
 */
export function simPerTest(): (
    ...args: Parameters<typeof startSim>
) => Promise<{ c: SimCluster & { kubeconfigPath: string }; kc: KubeConfig }> {
    const sims: SimCluster[] = [];
    afterEach(async () => {
        for (const c of sims.splice(0)) await c.stop();
    });
    return async (...args) => {
        const c = await startSim(...args);
        sims.push(c);
        return { c, kc: loadKubeConfig({ kubeconfig: c.kubeconfig }) };
    };
}
