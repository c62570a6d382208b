// The part of the drain engine (drain/index.ts) the providers and components call. It is written out here
// instead of importing the engine's module type so the Pulumi layer states exactly what it relies on;
// tests/components/engine-contract.test.ts checks at compile time that the real engine satisfies it.
import type { KubeConfig } from "@kubernetes/client-node";
import type { DrainOptions, DrainResult, ProgressEvent, ProgressListener, KubeConfigSource, NodeInfo } from "../drain";

// Plain data shapes are the engine's own (type-only imports load no engine code into the program).
export type { KubeConfigSource, NodeInfo };

export interface DrainEngine {
    CORDONED_BY_ANNOTATION: string;
    loadKubeConfig(src: KubeConfigSource): KubeConfig;
    cordon(kc: KubeConfig, node: string, opts?: { onProgress?: ProgressListener; signal?: AbortSignal }): Promise<{ changed: boolean }>;
    uncordon(
        kc: KubeConfig,
        node: string,
        opts?: { onProgress?: ProgressListener; onlyIfCordonedByUs?: boolean; signal?: AbortSignal },
    ): Promise<{ changed: boolean }>;
    drain(kc: KubeConfig, node: string, opts: DrainOptions & { onProgress?: ProgressListener; signal?: AbortSignal }): Promise<DrainResult>;
    waitForNode(
        kc: KubeConfig,
        node: string,
        opts: { ready?: boolean; kubeletVersion?: string; timeoutSeconds?: number; onProgress?: ProgressListener; signal?: AbortSignal },
    ): Promise<{ ready: boolean; kubeletVersion: string }>;
    /** "v1.20.0" equals "1.20.0"; a target without pre-release matches distribution builds ("v1.20.0+k3s1"). */
    kubeletVersionMatches(actual: string, target: string): boolean;
    readNode(kc: KubeConfig, node: string): Promise<NodeInfo>;
    listNodes(kc: KubeConfig, labelSelector?: string): Promise<NodeInfo[]>;
    formatProgress(event: ProgressEvent): string;
    /** A 404 Status from the API server naming this object (kind "nodes"): the only proof that a node is gone. */
    isObjectNotFound(err: unknown, kind: string, name: string): boolean;
    /** The API server's own message (plus the RBAC fix for a refusal) for an error from a Kubernetes call. */
    errorMessage(err: unknown): string;
}

/** The planner (planner/index.ts): preview logs its roll plan. Typed loosely on purpose (the program loads only what it calls). */
export interface PlannerModule {
    snapshotFromCluster(kc: KubeConfig): Promise<unknown>;
    planRoll(snapshot: unknown, options: Record<string, unknown>): unknown;
    formatNodePlan(nodePlan: unknown): string;
    formatPlan(plan: unknown): string;
}
