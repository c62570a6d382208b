// Progress of shared-cluster operations, for the CLI's log lines and the components' pulumi.log.info.

export type SharedClusterItem = "lease" | "kured" | "window" | "gates";

export interface SharedClusterEvent {
    /** What the event is about. */
    item: SharedClusterItem;
    /**
     * waiting: blocked, will check again (message names the blocker); takeover: taking an expired lock;
     * acquired / released / renewed; renew-failed: one renewal failed, still held; lost: we no longer hold a lock
     * we held; info: anything else worth a line (e.g. "kured is not installed: nothing to coordinate with").
     */
    phase: "waiting" | "takeover" | "acquired" | "renewed" | "renew-failed" | "lost" | "released" | "ok" | "info";
    message: string;
}

export type SharedClusterProgress = (e: SharedClusterEvent) => void;
