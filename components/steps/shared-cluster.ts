// The cordon and uncordon steps' side of "safe in a shared cluster" (../shared-cluster-args.ts): before a node's
// cordon, wait for the maintenance window, the roll lock (a Lease), kured's lock and the health gates, failing
// before anything is cordoned; after its uncordon, release the locks. Host-side code.
//
// The nodes of one batch are cordoned by steps that run at the same time in this process: they share one
// session (one holder), taken by the first and released when the last of them is uncordoned. A chain that
// fails leaves its node in the session, so the lock stays held (renewed) while this `pulumi up` runs; when it
// ends nobody renews it, and the Lease expires one TTL later.
import * as fs from "fs";
import * as path from "path";
import type { KubeConfig } from "@kubernetes/client-node";
import type * as SharedCluster from "../../shared-cluster";
import { notBuiltMessage } from "../package-root";

type Module = typeof SharedCluster;
type Options = SharedCluster.SharedClusterOptions;

/** The compiled shared-cluster module, next to this file in dist/ (loaded only when a roll uses it). */
export function sharedClusterModule(): Module {
    const file = path.join(__dirname, "..", "..", "shared-cluster", "index.js");
    if (!fs.existsSync(file)) throw new Error(notBuiltMessage(file, path.join(__dirname, "..", "..")));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- found at run time, like the drain engine
    return require(file) as Module;
}

/**
 * "pulumi:project/stack user@host": the same for every `pulumi up` of the stack from this account and machine,
 * so a rerun after a failed roll finds the lock its own (it is the same roll, resumed) instead of waiting a
 * TTL for it; another stack, user or machine waits. (The CLI's identity names its process instead.)
 */
function stackHolder(sc: Module, stack: string | undefined): string {
    const [project, name] = (stack ?? "").split("/");
    return sc.holderIdentity({ tool: "pulumi", project: project || undefined, stack: name || undefined, pid: null });
}

interface Open {
    session: SharedCluster.SharedClusterSession;
    nodes: Set<string>;
}

/** Sessions of this process, by the locks they hold; a pending acquire is shared by the steps that wait on it. */
const sessions = new Map<string, Promise<Open>>();

const lockKey = (o: Options) => JSON.stringify([o.lock ?? null, o.kuredLock ?? null]);

export { sharedClusterEnabled as enabled } from "../shared-cluster-args";

/**
 * Waits for the window, the locks and the gates before `node` is cordoned. Throws (naming the holder, the
 * alert, the pod or the window) when one of them does not let it start in time; nothing was cordoned then.
 */
export async function enterMaintenance(
    kc: KubeConfig,
    o: Options,
    stack: string | undefined,
    node: string,
    log: (message: string) => void,
): Promise<void> {
    const sc = sharedClusterModule();
    const key = lockKey(o);
    const options: Options = { ...o, holderIdentity: stackHolder(sc, stack) };
    const onProgress = (e: SharedCluster.SharedClusterEvent) => log(`${e.item}: ${e.message}`);
    const pending = sessions.get(key);
    if (pending) {
        const open = await pending.catch(() => undefined);
        if (open) {
            open.session.assertHeld();
            await open.session.checkNode(node);
            open.nodes.add(node);
            return;
        }
    }
    const opening = sc
        .acquireAndCheck(kc, options, node, { onProgress, onLost: (err) => log(`lock lost: ${err.message}`) })
        .then((session) => ({ session, nodes: new Set([node]) }));
    sessions.set(key, opening);
    try {
        await opening;
    } catch (err) {
        sessions.delete(key);
        throw err;
    }
}

/** After `node` is uncordoned: releases the locks once no node of this process holds them any more. */
export async function leaveMaintenance(o: Options, node: string, log: (message: string) => void): Promise<void> {
    const key = lockKey(o);
    const pending = sessions.get(key);
    const open = pending && (await pending.catch(() => undefined));
    if (!open || !open.nodes.delete(node) || open.nodes.size > 0) return;
    sessions.delete(key);
    await open.session.release();
    log("released the roll lock");
}
