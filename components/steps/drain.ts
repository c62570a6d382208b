// NodeDrain: evicts the node's pods like `kubectl drain` (PodDisruptionBudgets honoured, options mirroring
// kubectl's flags). A drain that cannot finish throws with the pods and budgets that hold it; the node stays
// cordoned and the next `pulumi up` resumes here.
import * as s from "./support";
import { StepLogic } from "./step-logic";
import { selectorProblem } from "../validate";

/** Workload-aware pacing is on by default in the Pulumi components (the CLI's default is 0, kubectl's behaviour). */
export const DEFAULT_MAX_UNAVAILABLE_PER_WORKLOAD = 1;

/** Drain option inputs, as the NodeDrain resource passes them (kubectl flag in the comment). */
const BOOLEAN_OPTIONS = ["force", "ignoreDaemonSets", "deleteEmptyDirData", "disableEviction", "skipIfAtTarget"];

export class DrainStep extends StepLogic {
    constructor() {
        super("NodeDrain", true);
    }

    protected checkStepInputs(news: any, failures: s.CheckFailure[]): Record<string, any> {
        const fail = (property: string, reason: string) => failures.push({ property, reason: `${this.step}: ${reason}` });
        for (const k of BOOLEAN_OPTIONS) {
            if (news[k] !== undefined && news[k] !== null && !s.isUnknown(news[k]) && typeof news[k] !== "boolean")
                fail(k, `${k} must be true or false`);
        }
        const integer = (k: string, min: number, meaning: string) => {
            const v = news[k];
            if (v === undefined || v === null || s.isUnknown(v)) return;
            if (typeof v !== "number" || !Number.isInteger(v) || v < min)
                fail(k, `${k} must be a whole number ${meaning}, got ${JSON.stringify(v)}`);
        };
        integer("gracePeriodSeconds", -1, "of seconds (-1 = each pod's own grace period)");
        integer("skipWaitForDeleteTimeoutSeconds", 0, "of seconds (0 = never skip)");
        integer("chunkSize", 0, "(0 = no paging)");
        integer("maxUnavailablePerWorkload", 0, "of pods (0 = no workload pacing, as kubectl)");
        if (news.podSelector !== undefined && news.podSelector !== null && news.podSelector !== "" && !s.isUnknown(news.podSelector)) {
            const problem = selectorProblem("podSelector", news.podSelector);
            if (problem) fail("podSelector", problem);
        }
        const timeoutSeconds = s.checkDuration(failures, this.step, "timeout", news.timeout);
        return timeoutSeconds === undefined ? {} : { timeoutSeconds };
    }

    protected async run(inputs: any): Promise<Record<string, any>> {
        const engine = s.engine();
        const kc = s.kube(inputs);
        const node = await s.readNode(inputs);
        const drainedAt = s.nowIso();
        if (inputs.skipIfAtTarget !== false && s.versionMatches(node.kubeletVersion, inputs.targetVersion) && !node.cordonedByUs) {
            const message = `already at ${node.kubeletVersion}: not draining`;
            s.log(this.step, inputs.nodeName, message);
            return { alreadyAtTarget: true, evictedPods: [], skippedPods: [], warnings: [], drainSeconds: 0, drainedAt, message };
        }
        // Warnings the engine reports live (e.g. a refused watch) also come back in result.warnings: print each once.
        const printProgress = s.progressPrinter(this.step, inputs.nodeName);
        const warnedLive = new Set<string>();
        try {
            const result = await engine.drain(kc, inputs.nodeName, {
                force: inputs.force,
                ignoreDaemonSets: inputs.ignoreDaemonSets,
                deleteEmptyDirData: inputs.deleteEmptyDirData,
                gracePeriodSeconds: inputs.gracePeriodSeconds,
                timeoutSeconds: inputs.timeoutSeconds,
                podSelector: inputs.podSelector || undefined,
                disableEviction: inputs.disableEviction,
                skipWaitForDeleteTimeoutSeconds: inputs.skipWaitForDeleteTimeoutSeconds,
                chunkSize: inputs.chunkSize,
                maxUnavailablePerWorkload: inputs.maxUnavailablePerWorkload ?? DEFAULT_MAX_UNAVAILABLE_PER_WORKLOAD,
                onProgress: (event) => {
                    if (event.type === "warning") warnedLive.add(event.message);
                    printProgress(event);
                },
            });
            for (const w of result.warnings) if (!warnedLive.has(w)) s.log(this.step, inputs.nodeName, `Warning: ${w}`);
            const message = `drained: ${result.evicted.length} pod(s) evicted in ${result.durationSeconds.toFixed(1)}s`;
            s.log(this.step, inputs.nodeName, message);
            return {
                alreadyAtTarget: false,
                evictedPods: result.evicted.map((e) => e.pod),
                skippedPods: result.skipped.map((p) => `${p.pod}: ${p.reason}`),
                warnings: result.warnings,
                drainSeconds: Math.round(result.durationSeconds * 10) / 10,
                drainedAt,
                message,
            };
        } catch (err: any) {
            // The engine's DrainError names every remaining pod with its reason (budget numbers included).
            throw new Error(
                `${this.step} ${inputs.nodeName}: ${err?.message ?? err}\n` +
                    `The node stays cordoned. Fix the cause (for example relax the PodDisruptionBudget, make the workload's ` +
                    `replacements Ready, or raise the drain timeout) ` +
                    `and run \`pulumi up\` again: the roll resumes at this node.`,
            );
        }
    }
}
