// The behaviour every step shares, as a base class. Host-side code (runs in the dynamic-provider host,
// loaded by the provider proxies in ../providers/); each step subclass only says what its step does.
import type * as pulumi from "@pulumi/pulumi";
import * as s from "./support";

export type StepName = "NodeCordon" | "NodeDrain" | "NodeReady" | "NodeUncordon";

export abstract class StepLogic implements pulumi.dynamic.ResourceProvider {
    /**
     * @param step the resource type name, used in messages ("NodeCordon")
     * @param requireExistingNode whether check() fails for a node the cluster does not have
     */
    constructor(
        readonly step: StepName,
        private readonly requireExistingNode: boolean,
    ) {}

    async check(olds: any, news: any): Promise<pulumi.dynamic.CheckResult> {
        const failures = await s.checkCommon(this.step, olds ?? {}, news, { requireExistingNode: this.requireExistingNode });
        const normalized = this.checkStepInputs(news, failures);
        return { inputs: { ...news, ...normalized }, failures };
    }

    /** Step-specific validation; returns normalized values to merge into the inputs (e.g. durations as seconds). */
    protected checkStepInputs(_news: any, _failures: s.CheckFailure[]): Record<string, any> {
        return {};
    }

    async diff(_id: string, olds: any, news: any): Promise<pulumi.dynamic.DiffResult> {
        const answer = s.diffTriggers(olds, news);
        if (answer.changes) return answer;
        // Same inputs, but the node's own state may call for the step again (the cordon of an unfinished node).
        return (await this.mustRunAgain(news)) ? { ...answer, changes: true } : answer;
    }

    async create(inputs: any): Promise<pulumi.dynamic.CreateResult> {
        return { id: inputs.nodeName, outs: await this.runSafely(inputs) };
    }

    /**
     * A trigger changed (new version, new command, new revision, a new run of the node's cordon): run the step
     * again. Otherwise only settings changed (a rotated kubeconfig, drain options, timeouts): store them and
     * touch nothing, so rotating credentials never re-runs a finished node.
     */
    async update(_id: string, olds: any, news: any): Promise<pulumi.dynamic.UpdateResult> {
        if (s.changedTriggers(olds, news).length > 0 || (await this.mustRunAgain(news))) return { outs: await this.runSafely(news) };
        const settings = s.changedSettings(olds, news);
        s.log(this.step, news.nodeName, `settings changed (${settings.join(", ") || "none"}): stored; nothing was run on the node`);
        // The step's results stay; its old inputs are replaced by the new ones (a removed setting goes away).
        const results: Record<string, any> = {};
        const oldInputs = new Set<string>(["__provider", "inputKeys", ...(olds?.inputKeys ?? [])]);
        for (const [k, v] of Object.entries(olds ?? {})) if (!oldInputs.has(k)) results[k] = v;
        return { outs: { ...results, ...s.echoInputs(news) } };
    }

    /** Whether the node's live state requires this step although no input changed. Only the cordon says yes. */
    protected async mustRunAgain(_inputs: any): Promise<boolean> {
        return false;
    }

    /**
     * `pulumi refresh`: re-read the node. Only the API server answering 404 for this node removes the step from
     * the stack; any other failure (no kubeconfig file, an unknown context, a refused token, an unreachable API)
     * fails the refresh and changes nothing.
     */
    async read(id: string, props: any): Promise<pulumi.dynamic.ReadResult> {
        try {
            const node = await s.readNode(props);
            return { id, props: { ...props, ...this.observe(node, props) } };
        } catch (err: any) {
            if (s.isNodeNotFound(err, props?.nodeName)) {
                s.log(this.step, props?.nodeName, "the node no longer exists: refresh removes this step from the stack");
                return { id: undefined, props: undefined };
            }
            throw new Error(
                `${this.step} ${props?.nodeName}: refresh could not read the node, so the stack was left as it is: ${s.safeMessage(err, props ?? {})}${s.refreshHint(props ?? {})}`,
            );
        }
    }

    /** Fields refreshed from the live node by read(). */
    protected observe(_node: s.NodeInfo, _props: any): Record<string, any> {
        return {};
    }

    /** Runs the step; errors are re-thrown with a message that names the step and node and holds no secret. */
    private async runSafely(inputs: any): Promise<Record<string, any>> {
        try {
            return { ...s.echoInputs(inputs), ...(await this.run(inputs)) };
        } catch (err: any) {
            const message = s.safeMessage(err, inputs);
            throw new Error(message.startsWith(`${this.step} `) ? message : `${this.step} ${inputs.nodeName}: ${message}`);
        }
    }

    /** Does the step against the cluster and returns its result fields. */
    protected abstract run(inputs: any): Promise<Record<string, any>>;
}
