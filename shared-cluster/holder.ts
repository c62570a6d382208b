// Who holds the lock: a holderIdentity that tells a person at a glance which program, stack and machine it is.
import * as os from "node:os";

export interface HolderIdentityOptions {
    /** "pulumi" (a stack's `pulumi up`) or "cli" (node-upgrade CLI); another word names another tool. */
    tool: "pulumi" | "cli" | (string & {});
    /** Pulumi project and stack (tool "pulumi"): rendered `pulumi:<project>/<stack>`. */
    project?: string;
    stack?: string;
    /** Defaults: the OS user (or $USER), the host name, this process's id. */
    user?: string;
    host?: string;
    /** null: no process id (an identity that a rerun of the same stack shares). */
    pid?: number | null;
}

function osUser(): string {
    try {
        return os.userInfo().username || process.env.USER || "unknown";
    } catch {
        // No passwd entry for the uid (common in containers).
        return process.env.USER || process.env.USERNAME || "unknown";
    }
}

/**
 * `pulumi:<project>/<stack> <user>@<host> pid <pid>` or `cli <user>@<host> pid <pid>`. The same string is written
 * into the Lease's spec.holderIdentity and (prefixed, see kuredNodeId) into kured's lock, so `kubectl get lease -n
 * kube-system node-upgrade -o yaml` answers "who is rolling nodes right now, from where".
 */
export function holderIdentity(o: HolderIdentityOptions): string {
    const tool = (o.tool || "cli").trim();
    let who = tool;
    if (tool === "pulumi" || o.project || o.stack) who = `${tool}:${o.project ?? "?"}/${o.stack ?? "?"}`;
    const user = o.user ?? osUser();
    const host = o.host ?? os.hostname();
    const pid = o.pid === null ? "" : ` pid ${o.pid ?? process.pid}`;
    return `${who} ${user}@${host}${pid}`.replace(/\s+/g, " ").trim();
}
