// One human line per progress event, worded like kubectl where kubectl has a line for it
// ("node/worker1 cordoned", "evicting pod default/web-1", "pod/web-1 evicted", "node/worker1 drained").
import type { ProgressEvent } from "./types";

function dryRunSuffix(d: "client" | "server" | undefined): string {
    return d === "client" ? " (dry run)" : d === "server" ? " (server dry run)" : "";
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Short pod name as kubectl prints it in "pod/<name> evicted" (no namespace). */
function podName(key: string): string {
    const i = key.indexOf("/");
    return i >= 0 ? key.slice(i + 1) : key;
}

export function formatProgress(e: ProgressEvent): string {
    switch (e.type) {
        case "cordoned":
            return `node/${e.node} ${e.alreadyCordoned ? "already cordoned" : "cordoned"}${dryRunSuffix(e.dryRun)}`;
        case "uncordoned":
            if (e.notOurs) return `node/${e.node} left cordoned: the cordon was not made by node-upgrade`;
            return `node/${e.node} ${e.alreadyUncordoned ? "already uncordoned" : "uncordoned"}${dryRunSuffix(e.dryRun)}`;
        case "classified": {
            const parts = [`${plural(e.evict, "pod")} to evict`];
            if (e.skip) parts.push(`${e.skip} left in place`);
            if (e.blocked) parts.push(`${plural(e.blocked, "pod")} blocking the drain`);
            return `node/${e.node}: ${parts.join(", ")}`;
        }
        case "evicting":
            return `${e.delete ? "deleting" : "evicting"} pod ${e.pod}${dryRunSuffix(e.dryRun)}`;
        case "waiting-on-budget":
            return e.message;
        case "waiting-on-workload":
            return e.message;
        case "retrying":
            return e.message;
        case "warning":
            return `Warning: ${e.message}`;
        case "pod-gone":
            if (e.how === "skipped")
                return `pod "${podName(e.pod)}" has DeletionTimestamp older than ${e.skipWaitSeconds ?? "the skip-wait"} seconds, skipping`;
            if (e.alreadyGone) return `pod/${podName(e.pod)} already gone`;
            return `pod/${podName(e.pod)} ${e.how}`;
        case "pod-failed":
            return e.message;
        case "drained":
            return `node/${e.node} drained${dryRunSuffix(e.dryRun)}`;
        case "node-waiting":
            return e.message;
        case "node-ready":
            return `node/${e.node} Ready at ${e.kubeletVersion || "an unknown version"}`;
    }
}
