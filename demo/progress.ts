// Live progress of the roll: what the providers print inside the dynamic-provider host
// ("node-upgrade: [NodeDrain worker1] evicting pod default/web-1"), re-printed as one aligned line per event,
// prefixed by node and step, with a count of the pods still to evict during a drain. The drain engine tries
// again to evict a pod a PodDisruptionBudget held back as soon as the budget allows one more disruption; those
// repeated "evicting pod" lines are left out (the "waiting on PodDisruptionBudget" lines say what it waits on).

const STEP_LABEL: Record<string, string> = {
    NodeCordon: "cordon",
    NodeDrain: "drain",
    NodeReady: "ready",
    NodeUncordon: "uncordon",
};

const PROVIDER_LINE = /^node-upgrade: \[(\w+) ([^\]]+)\] (.*)$/;

export class ProgressPrinter {
    private readonly seen: string[] = [];
    private readonly waiters: { key: string; resolve: () => void }[] = [];
    /** node → pods the current drain still has to evict. */
    private readonly toEvict = new Map<string, { total: number; gone: number }>();
    /** node → pods whose eviction was announced: the engine's retries (after a budget refusal) are not repeated. */
    private readonly announced = new Map<string, Set<string>>();

    constructor(
        private readonly out: (line: string) => void,
        private readonly nodeWidth: number,
    ) {}

    /** One line in the demo's layout: "  worker1  drain    │ message". */
    line(node: string, step: string, message: string): void {
        for (const part of message.split("\n")) this.out(`  ${node.padEnd(this.nodeWidth)}  ${step.padEnd(8)} │ ${part}`);
    }

    /** A line the dynamic-provider host printed. */
    onHostLine = (raw: string, stream: "stdout" | "stderr"): void => {
        const m = PROVIDER_LINE.exec(raw);
        if (!m) {
            // Anything else the host prints (SDK warnings, stack traces) is shown as it is.
            this.out(`  ${stream === "stderr" ? "(provider host, stderr)" : "(provider host)"} ${raw}`);
            return;
        }
        const [, type, node, message] = m;
        const key = `${type} ${node} ${message}`;
        if (this.isRetry(node, message)) return this.markSeen(key);
        this.line(node, STEP_LABEL[type] ?? type, message + this.drainCount(node, message));
        this.markSeen(key);
    };

    private markSeen(key: string): void {
        this.seen.push(key);
        for (const w of this.waiters.filter((x) => x.key === key)) w.resolve();
    }

    /** "evicting pod X" for a pod already announced in this drain: a retry once its budget allows it. */
    private isRetry(node: string, message: string): boolean {
        if (/^node\/\S+: \d+ pods? to evict/.test(message)) this.announced.set(node, new Set());
        const m = /^(?:evicting|deleting) pod (\S+)$/.exec(message);
        if (!m) return false;
        const set = this.announced.get(node) ?? new Set<string>();
        this.announced.set(node, set);
        if (set.has(m[1])) return true;
        set.add(m[1]);
        return false;
    }

    /** " · 5 left to evict" after each pod that is gone, counted down from the drain's "N pods to evict". */
    private drainCount(node: string, message: string): string {
        const planned = /^node\/\S+: (\d+) pods? to evict/.exec(message);
        if (planned) {
            this.toEvict.set(node, { total: Number(planned[1]), gone: 0 });
            return "";
        }
        const count = this.toEvict.get(node);
        if (count && /^pod\/\S+ (evicted|deleted|already gone)$/.test(message)) {
            count.gone++;
            const left = count.total - count.gone;
            return left > 0 ? `  · ${left} left to evict` : "  · none left to evict";
        }
        return "";
    }

    /**
     * Resolves once the provider's line "[<type> <node>] <message>" has been printed (or after `ms`): the step's
     * gRPC answer can overtake the last lines of its output on the host's stdout pipe.
     */
    async waitForLine(type: string, node: string, message: string | undefined, ms = 2000): Promise<void> {
        if (!message) return;
        const key = `${type} ${node} ${message}`;
        if (this.seen.includes(key)) return;
        await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, ms);
            this.waiters.push({
                key,
                resolve: () => {
                    clearTimeout(timer);
                    resolve();
                },
            });
        });
    }
}
