// Helpers shared by the four steps (NodeCordon, NodeDrain, NodeReady, NodeUncordon). Host-side code: it runs
// in the Pulumi dynamic-provider host, loaded from dist/ by the provider proxies (see ../providers/).
import * as path from "path";
import * as fs from "fs";
import type { KubeConfig } from "@kubernetes/client-node";
import type { DrainEngine, NodeInfo } from "../engine-contract";
export type { NodeInfo };
import type { ProgressEvent } from "../../drain";
import { isUnknown, nodeNameProblem, versionProblem, durationSeconds } from "../validate";
import { notBuiltMessage } from "../package-root";
import { parseDuration } from "../../kube-rules";

/** Inputs every step carries. The first four are the triggers: a step runs again when one of them changes. */
export interface StepInputs {
    nodeName: string;
    targetVersion: string;
    /** Hash of the upgrade command (and reboot settings), so a new command re-rolls the node. */
    commandHash?: string;
    /** Free-form value the user bumps to force a re-run at the same version. */
    revision?: string;
    /** Kubeconfig YAML (secret), a stack config key holding it, or a path; one of the three is required. */
    kubeconfig?: string;
    /** A stack configuration key ("project:kubeconfig") whose value is the kubeconfig; read from the provider's config. */
    kubeconfigConfigKey?: string;
    kubeconfigPath?: string;
    context?: string;
    /** Seconds between polls of the node (NodeReady). */
    pollIntervalSeconds?: number;
}

/**
 * The inputs whose change re-runs a step. `chainRunId` is the run id of the node's cordon: every later step of
 * the chain (and the upgrade command, through its triggers) runs again exactly when the cordon ran again.
 */
export const TRIGGER_FIELDS = ["nodeName", "targetVersion", "commandHash", "revision", "chainRunId"] as const;

/** Inputs that are not settings: compared by the triggers, or owned by Pulumi. */
const NOT_SETTINGS = new Set<string>([...TRIGGER_FIELDS, "__provider"]);

/** The stack configuration the engine gave the provider (Configure); undefined outside a Pulumi deployment. */
let stackConfig: { get(key: string): string | undefined } | undefined;

/** Called once per provider process by the providers' `configure` (../providers/step-provider.ts). */
export function configure(config: { get(key: string): string | undefined } | undefined): void {
    stackConfig = config;
}

/** The kubeconfig named by a stack config key, or a clear error saying which key is missing. */
function kubeconfigFromStackConfig(key: string): string {
    let value: string | undefined;
    try {
        value = stackConfig?.get(key);
    } catch {
        value = undefined; // a host that was never sent Configure has no configuration to read
    }
    if (typeof value === "string" && value.trim() !== "") return value;
    throw new Error(
        stackConfig
            ? `the stack configuration has no value for "${key}" (the kubeconfig this step reads); set it with \`pulumi config set --secret ${key.replace(/^[^:]*:/, "")} < ~/.kube/config\``
            : `the kubeconfig comes from the stack configuration key "${key}", but this provider was given no stack configuration`,
    );
}

export interface CheckFailure {
    property: string;
    reason: string;
}

/**
 * Inputs that can hold a secret. The engine prints a failing property's value in clear, secrets included
 * ("property kubeconfig value {…} has a problem", pkg/resource/deploy/step_generator.go issueCheckFailures and
 * sdk/go/common/resource/properties.go PropertyValue.String), so failures about them name no property.
 */
const SECRET_PROPERTIES = new Set(["kubeconfig"]);

/** A check failure that never makes the engine print a secret. */
export function checkFailure(step: string, property: string, reason: string): CheckFailure {
    return SECRET_PROPERTIES.has(property)
        ? { property: "", reason: `${step}: ${property}: ${reason}` }
        : { property, reason: `${step}: ${reason}` };
}

export interface CheckResult {
    inputs: Record<string, any>;
    failures: CheckFailure[];
}

/** The compiled drain engine, next to this file in dist/. */
export function engine(): DrainEngine {
    const file = path.join(__dirname, "..", "..", "drain", "index.js");
    if (!fs.existsSync(file)) throw new Error(notBuiltMessage(file, path.join(__dirname, "..", "..")));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the engine is found at run time (see above)
    return require(file) as DrainEngine;
}

/** A KubeConfig from the step's inputs. Errors never contain the kubeconfig itself. */
export function kube(inputs: StepInputs): KubeConfig {
    const fromConfig = inputs.kubeconfigConfigKey ? kubeconfigFromStackConfig(inputs.kubeconfigConfigKey) : undefined;
    if (fromConfig !== undefined) return engine().loadKubeConfig({ kubeconfig: fromConfig, context: inputs.context || undefined });
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
 * Which settings (every input that is not a trigger: kubeconfig, context, drain options, timeouts...) differ.
 * A changed setting is an update that only stores the new value: it never re-runs the step (see StepLogic.update).
 * Only input keys are compared (`inputKeys`, recorded by echoInputs), never the step's result fields.
 */
export function changedSettings(olds: Record<string, any>, news: Record<string, any>): string[] {
    const keys = new Set<string>([...(olds.inputKeys ?? []), ...Object.keys(news)]);
    return [...keys].filter(
        (k) => !NOT_SETTINGS.has(k) && (isUnknown(news[k]) || JSON.stringify(olds[k] ?? null) !== JSON.stringify(news[k] ?? null)),
    );
}

/**
 * diff() for every step: an explicit answer, so provider code edits never cause a diff (pulumi/pulumi#9982). A
 * changed trigger re-runs the step; a changed setting is an update that stores it; a new node name is a new
 * thing to manage, so it replaces (delete is a no-op anyway).
 */
export function diffTriggers(olds: Record<string, any>, news: Record<string, any>) {
    const changed = changedTriggers(olds, news);
    return {
        changes: changed.length > 0 || changedSettings(olds, news).length > 0,
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
    const add = (property: string, reason: string | undefined) => reason && failures.push(checkFailure(step, property, reason));
    if (!isUnknown(news.nodeName)) add("nodeName", nodeNameProblem(news.nodeName));
    if (!isUnknown(news.targetVersion)) add("targetVersion", versionProblem(news.targetVersion));
    for (const k of ["commandHash", "revision", "context", "kubeconfigPath", "kubeconfigConfigKey", "chainRunId"]) {
        if (news[k] !== undefined && news[k] !== null && !isUnknown(news[k]) && typeof news[k] !== "string")
            add(k, `${k} must be a string`);
    }
    const given = (v: unknown) => (typeof v === "string" && v.trim() !== "") || isUnknown(v);
    if (!given(news.kubeconfig) && !given(news.kubeconfigPath) && !given(news.kubeconfigConfigKey)) {
        add("kubeconfig", "a kubeconfig is required: set `kubeconfig` (YAML text, as a secret), `kubeconfigConfigKey` or `kubeconfigPath`");
        return failures;
    }
    if (
        failures.length > 0 ||
        [news.kubeconfig, news.kubeconfigPath, news.kubeconfigConfigKey, news.context, news.nodeName].some(isUnknown)
    )
        return failures;

    let kc: KubeConfig;
    try {
        kc = kube(news as StepInputs);
    } catch (err: any) {
        add(news.kubeconfigConfigKey ? "kubeconfigConfigKey" : news.kubeconfig ? "kubeconfig" : "kubeconfigPath", safeMessage(err, news));
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
        if (isNodeNotFound(err, name)) return false;
        console.log(`node-upgrade: could not check that node "${name}" exists (${safeMessage(err, {})}); continuing`);
        return undefined;
    }
}

/** Only the API server saying 404 NotFound for this node: never a missing file, context, config key or a wrong URL. */
export function isNodeNotFound(err: any, node: string): boolean {
    return engine().isObjectNotFound(err, "nodes", node);
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
    const result = durationSeconds(property, value, parseDuration, opts);
    if (result.problem) failures.push(checkFailure(step, property, result.problem));
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

/** What to do when refresh cannot read the node, depending on where the step's kubeconfig comes from. */
export function refreshHint(props: Record<string, any>): string {
    if (props.kubeconfigConfigKey)
        return `\nThe kubeconfig comes from the stack configuration key "${props.kubeconfigConfigKey}": check that it is set and current, then refresh again.`;
    if (props.kubeconfig) {
        return (
            "\nRefresh uses the kubeconfig stored with this step at the last `pulumi up`. If it was rotated (for example a " +
            "short-lived token), run `pulumi up` first: a new kubeconfig is stored without touching any node. Then refresh again."
        );
    }
    return `\nThe kubeconfig is read from the file "${props.kubeconfigPath}" on the machine that runs refresh: check that it exists there and is current.`;
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

/**
 * The inputs to echo into the outputs: diff compares the stored outputs with the new inputs (the host gives
 * diff only the outputs), and refresh reads the node with the stored connection. `inputKeys` records which
 * fields were inputs, so a setting that was removed is seen as a change.
 */
export function echoInputs(inputs: Record<string, any>): Record<string, any> {
    const out: Record<string, any> = {};
    for (const [k, v] of Object.entries(inputs)) if (k !== "__provider") out[k] = v;
    out.inputKeys = Object.keys(out).sort();
    return out;
}

/** A fresh id for one run of a cordon: the later steps and the upgrade command key their re-runs on it. */
export function newRunId(): string {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- steps run inside a by-value provider
    return require("crypto").randomBytes(8).toString("hex");
}

export { isUnknown } from "../validate";

/** Whether the kubelet runs the target version, by the drain engine's rule (the one waitForNode uses). */
export function versionMatches(kubeletVersion: string | undefined, target: string): boolean {
    return !!kubeletVersion && engine().kubeletVersionMatches(kubeletVersion, target);
}
