// The behaviour every step shares, as a base class. Host-side code (runs in the dynamic-provider host,
// loaded from dist/ by the provider proxies); each step subclass only says what its step does.
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
        return s.diffTriggers(olds, news);
    }

    async create(inputs: any): Promise<pulumi.dynamic.CreateResult> {
        return { id: inputs.nodeName, outs: await this.runSafely(inputs) };
    }

    /** A trigger changed (new version, new command, new revision): run the step again. */
    async update(_id: string, _olds: any, news: any): Promise<pulumi.dynamic.UpdateResult> {
        return { outs: await this.runSafely(news) };
    }

    /** `pulumi refresh`: re-read the node. A node that no longer exists means the step's resource is gone. */
    async read(id: string, props: any): Promise<pulumi.dynamic.ReadResult> {
        try {
            const node = await s.readNode(props);
            return { id, props: { ...props, ...this.observe(node, props) } };
        } catch (err: any) {
            if (s.isNotFoundError(err)) return { id: undefined, props: undefined };
            throw new Error(`${this.step} ${props?.nodeName}: refresh failed: ${s.safeMessage(err, props ?? {})}`);
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
