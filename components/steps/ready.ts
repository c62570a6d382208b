// NodeReady: waits until the node is Ready and its kubelet reports the target version, then (optionally)
// until it has stayed Ready for the soak time. It tolerates the node going NotReady and coming back (a
// reboot) and the API being briefly unreachable (a control-plane node restarting).
import * as s from "./support";
import { StepLogic } from "./step-logic";

export const DEFAULT_READY_TIMEOUT_SECONDS = 900;
export const DEFAULT_NOT_READY_TIMEOUT_SECONDS = 300;

export class ReadyStep extends StepLogic {
    constructor() {
        // No "node exists" check: a node may briefly disappear while it re-registers after a reboot.
        super("NodeReady", false);
    }

    protected checkStepInputs(news: any, failures: s.CheckFailure[]): Record<string, any> {
        const out: Record<string, any> = {};
        const timeoutSeconds = s.checkDuration(failures, this.step, "timeout", news.timeout);
        const soakSeconds = s.checkDuration(failures, this.step, "soak", news.soak);
        const notReadyTimeoutSeconds = s.checkDuration(failures, this.step, "notReadyTimeout", news.notReadyTimeout);
        if (timeoutSeconds !== undefined) out.timeoutSeconds = timeoutSeconds;
        if (soakSeconds !== undefined) out.soakSeconds = soakSeconds;
        if (notReadyTimeoutSeconds !== undefined) out.notReadyTimeoutSeconds = notReadyTimeoutSeconds;
        const pollIntervalSeconds = s.checkDuration(failures, this.step, "pollInterval", news.pollInterval);
        if (pollIntervalSeconds !== undefined && !(pollIntervalSeconds > 0)) {
            failures.push({ property: "pollInterval", reason: `${this.step}: pollInterval must be above zero` });
        } else if (pollIntervalSeconds !== undefined) {
            out.pollIntervalSeconds = pollIntervalSeconds;
        }
        return out;
    }

    protected async run(inputs: any): Promise<Record<string, any>> {
        const engine = s.engine();
        const kc = s.kube(inputs);
        const node: string = inputs.nodeName;
        const target: string = inputs.targetVersion;
        const started = Date.now();
        const timeoutSeconds: number = inputs.timeoutSeconds ?? DEFAULT_READY_TIMEOUT_SECONDS;
        const deadline = timeoutSeconds > 0 ? started + timeoutSeconds * 1000 : Infinity;
        const poll: number = inputs.pollIntervalSeconds ?? 2;
        const soakSeconds: number = inputs.soakSeconds ?? 0;
        const say = (m: string) => s.log(this.step, node, m);
        const secondsLeft = () => (deadline === Infinity ? 0 : Math.max(1, Math.ceil((deadline - Date.now()) / 1000)));

        // A detached reboot happens a few seconds after the upgrade command returned: see it go down first,
        // so the old kubelet's last "Ready" is not taken for the upgraded node coming back.
        if (inputs.expectNotReady === true) {
            const window = Math.min(inputs.notReadyTimeoutSeconds ?? DEFAULT_NOT_READY_TIMEOUT_SECONDS, secondsLeft() || Infinity);
            const until = Date.now() + window * 1000;
            let seenDown = false;
            while (Date.now() < until) {
                const n = await this.tryRead(kc, node);
                if (!n || !n.ready) {
                    seenDown = true;
                    break;
                }
                await s.sleep(poll);
            }
            say(
                seenDown
                    ? "went down for the restart; waiting for it to come back"
                    : `was never seen NotReady within ${window}s after the upgrade; continuing`,
            );
        }

        for (;;) {
            await engine.waitForNode(kc, node, {
                ready: true,
                kubeletVersion: target,
                timeoutSeconds: secondsLeft(),
                onProgress: s.progressPrinter(this.step, node),
            });
            const readyAt = Date.now();
            if (soakSeconds <= 0) return this.result(inputs, started, readyAt, 0);
            say(`Ready at ${target}; soaking for ${soakSeconds}s before uncordon`);
            // Soak: the node must stay Ready (at the target) for soakSeconds in a row.
            let stable = true;
            while (Date.now() - readyAt < soakSeconds * 1000) {
                await s.sleep(Math.min(poll, soakSeconds - (Date.now() - readyAt) / 1000));
                const n = await this.tryRead(kc, node);
                if (n && (!n.ready || !s.versionMatches(n.kubeletVersion, target))) {
                    stable = false;
                    break;
                }
            }
            if (stable) return this.result(inputs, started, readyAt, soakSeconds);
            if (Date.now() >= deadline)
                throw new Error(`the node did not stay Ready for ${soakSeconds}s within the ${timeoutSeconds}s timeout`);
            say("went NotReady during the soak; waiting for it again");
        }
    }

    private async tryRead(kc: any, node: string): Promise<s.NodeInfo | undefined> {
        try {
            return await s.withTimeout(s.engine().readNode(kc, node), 30, `reading node "${node}"`);
        } catch {
            return undefined; // unreachable API or node re-registering: keep waiting
        }
    }

    private async result(inputs: any, started: number, readyAt: number, soakedSeconds: number): Promise<Record<string, any>> {
        const n = await s.readNode(inputs);
        const message = `Ready at ${n.kubeletVersion} after ${((readyAt - started) / 1000).toFixed(1)}s${soakedSeconds ? `, stayed Ready for ${soakedSeconds}s` : ""}`;
        s.log(this.step, inputs.nodeName, message);
        return {
            ready: n.ready,
            kubeletVersion: n.kubeletVersion,
            readyAt: new Date(readyAt).toISOString(),
            waitedSeconds: Math.round((readyAt - started) / 100) / 10,
            soakedSeconds,
            message,
        };
    }

    protected observe(node: s.NodeInfo): Record<string, any> {
        return { ready: node.ready, kubeletVersion: node.kubeletVersion };
    }
}
