// Cordon and uncordon exactly as kubectl does: read the node, send nothing when spec.unschedulable already
// has the wanted value, else one strategic-merge PATCH {"spec":{"unschedulable":true}} / {...:null}.
// We add one thing in the same PATCH: an annotation saying node-upgrade did the cordon, so that
// uncordon({onlyIfCordonedByUs}) never undoes a cordon an operator put there for another reason.
import { PatchStrategy, type KubeConfig } from "@kubernetes/client-node";
import { clientFor } from "./kube-client";
import { CORDONED_BY_ANNOTATION } from "../kube-rules";
import { getNode } from "./node-info";
import { withRetry } from "./retry";
import type { ProgressListener } from "./types";

export { CORDONED_BY_ANNOTATION };

export type DryRun = "none" | "client" | "server";

export interface CordonOptions {
    onProgress?: ProgressListener;
    dryRun?: DryRun;
    /** Value of the cordoned-by annotation (default "node-upgrade"). */
    cordonedBy?: string;
    signal?: AbortSignal;
}

export interface UncordonOptions {
    onProgress?: ProgressListener;
    /** Only uncordon when our annotation shows node-upgrade made the cordon. */
    onlyIfCordonedByUs?: boolean;
    dryRun?: DryRun;
    signal?: AbortSignal;
}

async function patchNode(
    kc: KubeConfig,
    node: string,
    body: object,
    dryRun: DryRun | undefined,
    signal?: AbortSignal,
    verb = "cordon",
): Promise<void> {
    const client = clientFor(kc);
    // A PATCH without resourceVersion is idempotent, so retrying it after a lost response is safe.
    await withRetry(
        `unable to ${verb} node "${node}"`,
        () =>
            client.call((o) => client.core.patchNode({ name: node, body, dryRun: dryRun === "server" ? "All" : undefined }, o), {
                // Without this header client-node sends application/json-patch+json and the server expects an array.
                headers: { "Content-Type": PatchStrategy.StrategicMergePatch },
                signal,
            }),
        { signal },
    );
}

/** Marks the node unschedulable. `changed` is false when it already was (no PATCH sent). */
export async function cordon(kc: KubeConfig, node: string, opts: CordonOptions = {}): Promise<{ changed: boolean }> {
    const current = await getNode(kc, node, opts.signal);
    if (current.spec?.unschedulable) {
        opts.onProgress?.({ type: "cordoned", node, alreadyCordoned: true });
        return { changed: false };
    }
    if (opts.dryRun !== "client") {
        const body = {
            metadata: { annotations: { [CORDONED_BY_ANNOTATION]: opts.cordonedBy ?? "node-upgrade" } },
            spec: { unschedulable: true },
        };
        await patchNode(kc, node, body, opts.dryRun, opts.signal, "cordon");
    }
    opts.onProgress?.({ type: "cordoned", node, alreadyCordoned: false, dryRun: dryRunTag(opts.dryRun) });
    return { changed: true };
}

/**
 * Makes the node schedulable again and removes our annotation. With onlyIfCordonedByUs, a cordon that
 * node-upgrade did not make is left in place (changed: false, notOurs: true in the event).
 */
export async function uncordon(kc: KubeConfig, node: string, opts: UncordonOptions = {}): Promise<{ changed: boolean }> {
    const current = await getNode(kc, node, opts.signal);
    const ours = current.metadata?.annotations?.[CORDONED_BY_ANNOTATION] !== undefined;
    const removeAnnotation = { metadata: { annotations: { [CORDONED_BY_ANNOTATION]: null } } };
    if (!current.spec?.unschedulable) {
        // A stale annotation (someone uncordoned by hand) is cleaned up quietly.
        if (ours && opts.dryRun !== "client") await patchNode(kc, node, removeAnnotation, opts.dryRun, opts.signal, "uncordon");
        opts.onProgress?.({ type: "uncordoned", node, alreadyUncordoned: true });
        return { changed: false };
    }
    if (opts.onlyIfCordonedByUs && !ours) {
        opts.onProgress?.({ type: "uncordoned", node, alreadyUncordoned: false, notOurs: true });
        return { changed: false };
    }
    if (opts.dryRun !== "client") {
        // Exactly kubectl's patch, plus the annotation removal when the cordon was ours.
        const body = ours ? { ...removeAnnotation, spec: { unschedulable: null } } : { spec: { unschedulable: null } };
        await patchNode(kc, node, body, opts.dryRun, opts.signal, "uncordon");
    }
    opts.onProgress?.({ type: "uncordoned", node, alreadyUncordoned: false, dryRun: dryRunTag(opts.dryRun) });
    return { changed: true };
}

export function dryRunTag(d: DryRun | undefined): "client" | "server" | undefined {
    return d === "client" || d === "server" ? d : undefined;
}
