// Printing progress the way kubectl does: results on stdout ("node/worker1 cordoned", "evicting pod ns/x",
// "pod/x evicted", "node/worker1 drained"), warnings, retries and errors on stderr. Our extra lines
// (budget waits, retries) are printed once per change, not once per attempt.
import { formatProgress, type ProgressEvent } from "../drain";

export interface Printer {
    out(line: string): void;
    err(line: string): void;
}

export const stdio: Printer = {
    out: (line) => process.stdout.write(line + "\n"),
    err: (line) => process.stderr.write(line + "\n"),
};

export interface ProgressPrinterOptions {
    /** Do not print "cordoned" events (the command already cordoned every node up front, as kubectl does). */
    hideCordon?: boolean;
    /** Print every transient retry (default: only the first per pod and every 10th after). */
    verbose?: boolean;
}

/** Returns an onProgress listener that prints kubectl-like lines. */
export function progressPrinter(p: Printer = stdio, o: ProgressPrinterOptions = {}): (e: ProgressEvent) => void {
    const retriesPerPod = new Map<string, number>();
    return (e) => {
        switch (e.type) {
            case "cordoned":
                if (!o.hideCordon) p.out(formatProgress(e));
                return;
            case "classified":
                for (const w of e.warnings) p.err(`Warning: ${w}`);
                return;
            case "evicting":
                // kubectl repeats this line on every attempt; we print it once and report waits separately.
                if ((e.attempt ?? 1) === 1) p.out(formatProgress(e));
                return;
            case "retrying": {
                const key = e.pod ?? "";
                const n = (retriesPerPod.get(key) ?? 0) + 1;
                retriesPerPod.set(key, n);
                if (o.verbose || n === 1 || n % 10 === 0) p.err(formatProgress(e));
                return;
            }
            case "waiting-on-budget":
            case "waiting-on-workload":
            case "pod-failed":
            case "node-waiting":
            case "warning":
                p.err(formatProgress(e));
                return;
            default:
                p.out(formatProgress(e));
        }
    };
}
