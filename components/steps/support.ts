// Helpers shared by the four steps (NodeCordon, NodeDrain, NodeReady, NodeUncordon). Host-side code: it runs
// in the Pulumi dynamic-provider host, loaded from dist/ by the provider proxies (see ../provider-proxy.ts).
import * as path from "path";
import * as fs from "fs";
import type { KubeConfig } from "@kubernetes/client-node";
import type { DrainEngine, NodeInfo } from "../engine-contract";
export type { NodeInfo };
import type { ProgressEvent } from "../../drain/types";
import { isUnknown, nodeNameProblem, versionProblem, durationSeconds } from "../validate";
import { notBuiltMessage } from "../package-root";

/** Inputs every step carries. The first four are the triggers: a step runs again when one of them changes. */
export interface StepInputs {
    nodeName: string;
    targetVersion: string;
    /** Hash of the upgrade command (and reboot settings), so a new command re-rolls the node. */
    commandHash?: string;
    /** Free-form value the user bumps to force a re-run at the same version. */
    revision?: string;
    /** Kubeconfig YAML (secret) or a path; one of the two is required. */
    kubeconfig?: string;
    kubeconfigPath?: string;
    context?: string;
    /** Seconds between polls of the node (NodeReady). */
    pollIntervalSeconds?: number;
}

export const TRIGGER_FIELDS = ["nodeName", "targetVersion", "commandHash", "revision"] as const;

export interface CheckFailure {
    property: string;
    reason: string;
}

export interface CheckResult {
    inputs: Record<string, any>;
    failures: CheckFailure[];
}

/** The compiled drain engine, next to this file in dist/. */
export function engine(): DrainEngine {
    const file = path.join(__dirname, "..", "..", "drain", "index.js");
    if (!fs.existsSync(file)) throw new Error(notBuiltMessage(file, path.join(__dirname, "..", "..")));
    return require(file) as DrainEngine;
}

/** A KubeConfig from the step's inputs. Errors never contain the kubeconfig itself. */
export function kube(inputs: StepInputs): KubeConfig {
    return engine().loadKubeConfig({
        kubeconfig: inputs.kubeconfig || undefined,
        kubeconfigPath: inputs.kubeconfig ? undefined : inputs.kubeconfigPath || undefined,
        context: inputs.context || undefined,
    });
}

/** Which trigger fields differ between the stored outputs and the new inputs (unknown counts as changed). */
export function changedTriggers(olds: Record<string, any>, news: Record<string, any>): string[] {
    return TRIGGER_FIELDS.filter((k) => isUnknown(news[k]) || (olds[k] ?? "") !== (news[k] ?? ""));
}

/**
 * diff() for every step: an explicit answer computed only from the trigger fields, so provider code edits,
 * kubeconfig rotation or drain-option tweaks never re-run a finished step. A new node name is a new thing
 * to manage, so it replaces (delete is a no-op anyway).
 */
export function diffTriggers(olds: Record<string, any>, news: Record<string, any>) {
    const changed = changedTriggers(olds, news);
    return {
        changes: changed.length > 0,
        replaces: changed.includes("nodeName") ? ["nodeName"] : [],
        deleteBeforeReplace: false,
    };
}

/**
 * The checks every step shares: node name, version, a kubeconfig that loads, and (only when the step is going
 * to run, to keep no-op runs free of API calls) that the node exists. Unknown values are skipped.
 */
export async function checkCommon(
    step: string,
    olds: Record<string, any>,
    news: Record<string, any>,
    opts: { requireExistingNode: boolean },
): Promise<CheckFailure[]> {
    const failures: CheckFailure[] = [];
    const add = (property: string, reason: string | undefined) => reason && failures.push({ property, reason: `${step}: ${reason}` });
    if (!isUnknown(news.nodeName)) add("nodeName", nodeNameProblem(news.nodeName));
    if (!isUnknown(news.targetVersion)) add("targetVersion", versionProblem(news.targetVersion));
    for (const k of ["commandHash", "revision", "context", "kubeconfigPath"]) {
        if (news[k] !== undefined && news[k] !== null && typeof news[k] !== "string") add(k, `${k} must be a string`);
    }
    const hasKubeconfig = (typeof news.kubeconfig === "string" && news.kubeconfig.trim() !== "") || isUnknown(news.kubeconfig);
    const hasPath = (typeof news.kubeconfigPath === "string" && news.kubeconfigPath !== "") || isUnknown(news.kubeconfigPath);
    if (!hasKubeconfig && !hasPath) {
        add("kubeconfig", "a kubeconfig is required: set `kubeconfig` (YAML text, as a secret) or `kubeconfigPath`");
        return failures;
    }
    if (failures.length > 0 || [news.kubeconfig, news.kubeconfigPath, news.context, news.nodeName].some(isUnknown)) return failures;

    let kc: KubeConfig;
    try {
        kc = kube(news as StepInputs);
    } catch (err: any) {
        add(news.kubeconfig ? "kubeconfig" : "kubeconfigPath", safeMessage(err, news));
        return failures;
    }
    const willRun = Object.keys(olds).length === 0 || changedTriggers(olds, news).length > 0;
    if (opts.requireExistingNode && willRun) {
        const found = await nodeExists(kc, news.nodeName);
        if (found === false) add("nodeName", `node "${news.nodeName}" not found in the cluster`);
    }
    return failures;
}

/** true/false when the API answered, undefined when it could not be asked (the step itself will retry then). */
async function nodeExists(kc: KubeConfig, name: string): Promise<boolean | undefined> {
    try {
        await withTimeout(engine().readNode(kc, name), 10, `checking that node "${name}" exists`);
        return true;
    } catch (err: any) {
        if (isNotFoundError(err)) return false;
        console.log(`node-upgrade: could not check that node "${name}" exists (${safeMessage(err, {})}); continuing`);
        return undefined;
    }
}

export function isNotFoundError(err: any): boolean {
    return err?.failure?.code === 404 || /\bnot found\b/.test(String(err?.message ?? ""));
}

/** Validates and converts a duration input; adds a failure when it is bad. */
export function checkDuration(
    failures: CheckFailure[],
    step: string,
    property: string,
    value: unknown,
    opts: { allowNegative?: boolean } = {},
): number | undefined {
    if (value === undefined || value === null || value === "" || isUnknown(value)) return undefined;
    const result = durationSeconds(property, value, (t) => engine().parseDuration(t), opts);
    if (result.problem) failures.push({ property, reason: `${step}: ${result.problem}` });
    return result.seconds;
}

/** A progress listener printing engine events as console lines (the host's stdout reaches the Pulumi CLI). */
export function progressPrinter(step: string, node: string): (event: ProgressEvent) => void {
    const format = engine().formatProgress;
    // A pod held back by a budget is re-tried each time the budget's numbers move; say once that it waits
    // (as the CLI does), not at every move, so the log stays readable on big nodes.
    const waiting = new Set<string>();
    return (event) => {
        if (event.type === "waiting-on-budget" || event.type === "waiting-on-workload") {
            const pod = event.pod;
            if (waiting.has(pod)) return;
            waiting.add(pod);
        }
        console.log(`node-upgrade: [${step} ${node}] ${format(event)}`);
    };
}

export function log(step: string, node: string, message: string): void {
    console.log(`node-upgrade: [${step} ${node}] ${message}`);
}

/**
 * An error message that is safe to show: never the kubeconfig or any long credential-looking line of it
 * (certificates, tokens), even if some library embedded them.
 */
export function safeMessage(err: any, inputs: { kubeconfig?: string }): string {
    let text = String(err?.message ?? err ?? "unknown error");
    const kubeconfig = typeof inputs.kubeconfig === "string" ? inputs.kubeconfig : "";
    if (kubeconfig) {
        const secrets = [kubeconfig, ...kubeconfig.split(/\r?\n/).map((l) => l.replace(/^[^:]*:\s*/, "").trim())]
            .filter((s) => s.length >= 16)
            .sort((a, b) => b.length - a.length);
        for (const s of secrets) text = text.split(s).join("[redacted]");
    }
    return text;
}

/**
 * Time limit for single API interactions of a step (reading the node, cordon/uncordon). The engine retries
 * transient errors until told to stop, so without a limit an unreachable API would hang `pulumi up`.
 */
export const API_TIMEOUT_SECONDS = 120;

/** Rejects with a clear message when `work` takes longer than `seconds`. */
export async function withTimeout<T>(work: Promise<T> | ((signal: AbortSignal) => Promise<T>), seconds: number, what: string): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
            controller.abort();
            reject(new Error(`the Kubernetes API did not answer within ${seconds}s while ${what}`));
        }, seconds * 1000);
        timer.unref?.();
    });
    try {
        return await Promise.race([typeof work === "function" ? work(controller.signal) : work, timeout]);
    } finally {
        clearTimeout(timer);
    }
}

export async function readNode(inputs: StepInputs): Promise<NodeInfo> {
    return withTimeout(engine().readNode(kube(inputs), inputs.nodeName), API_TIMEOUT_SECONDS, `reading node "${inputs.nodeName}"`);
}

export function sleep(seconds: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, seconds) * 1000));
}

export function nowIso(): string {
    return new Date().toISOString();
}

/** The inputs to echo into the outputs (diff compares outputs with new inputs; read/refresh needs the connection). */
export function echoInputs(inputs: Record<string, any>): Record<string, any> {
    const out: Record<string, any> = {};
    for (const [k, v] of Object.entries(inputs)) if (k !== "__provider") out[k] = v;
    return out;
}

export { isUnknown } from "../validate";

/** Whether the kubelet runs the target version, by the drain engine's rule (the one waitForNode uses). */
export function versionMatches(kubeletVersion: string | undefined, target: string): boolean {
    return !!kubeletVersion && engine().kubeletVersionMatches(kubeletVersion, target);
}
