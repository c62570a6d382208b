// NodeUpgrade: the whole chain for one node. cordon → (before-drain hooks) → drain → upgrade command over
// SSH → wait Ready at the target version (and soak) → uncordon. Each step is its own resource, exposed as a
// property so users can hang their own resources on it. Every step carries the same trigger inputs
// (nodeName, targetVersion, commandHash, revision), so the chain re-runs when one of them changes and
// never otherwise.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { NodeCordon } from "./node-cordon";
import { DrainArgs, NodeDrain } from "./node-drain";
import { NodeReady } from "./node-ready";
import { NodeUncordon } from "./node-uncordon";
import { NodeStepArgs } from "./node-step";
import { commandWithEnv, envNameProblem } from "./shell-quote";
import { stackConfigValue, plainValue } from "./program-values";
import { durationSeconds, nodeNameProblem, nulProblem, selectorProblem, throwIfProblems, versionProblem } from "./validate";
import { ClusterReader, kubeClusterReader } from "./cluster-reader";
import { applyAll, secretOnce } from "./construction";
import { parseDuration } from "../kube-rules";
import { sharedClusterEnabled, sharedClusterOptions, type SharedClusterArgs } from "./shared-cluster-args";

/** SSH connection to the node (see @pulumi/command remote.Connection). */
export interface SshArgs {
    /** Address to connect to. Default: the node's InternalIP, read from the cluster at program time. */
    host?: pulumi.Input<string>;
    /** Default 22. */
    port?: pulumi.Input<number>;
    /** Default "root". */
    user?: pulumi.Input<string>;
    /** Private key contents (stored as a secret). */
    privateKey?: pulumi.Input<string>;
    /** Passphrase of an encrypted private key (secret). */
    privateKeyPassword?: pulumi.Input<string>;
    /** Password (secret). */
    password?: pulumi.Input<string>;
    /** SSH agent socket. Default $SSH_AUTH_SOCK. */
    agentSocketPath?: pulumi.Input<string>;
    /** Pin the server's host key. Without it the host key is not checked. */
    hostKey?: pulumi.Input<string>;
    /** Dial attempts before giving up (-1 = unlimited). Default 10. */
    dialErrorLimit?: pulumi.Input<number>;
    /** Seconds per dial attempt. Default 15. */
    perDialTimeout?: pulumi.Input<number>;
    /** Bastion host. */
    proxy?: pulumi.Input<command.types.input.remote.ProxyConnectionArgs>;
}

/** What a before-drain hook gets: the node, its cordon step, and the options to create its resources with. */
export interface BeforeDrainContext {
    nodeName: pulumi.Output<string>;
    cordon: NodeCordon;
    /** `{ parent: <the NodeUpgrade>, dependsOn: [cordon] }`: use these so the hook runs after the cordon. */
    opts: pulumi.CustomResourceOptions;
}

export type BeforeDrainHook = (ctx: BeforeDrainContext) => pulumi.Resource | pulumi.Resource[] | void;

export interface NodeUpgradeArgs {
    nodeName: pulumi.Input<string>;
    /** Kubelet version the node must run afterwards ("v1.29.3"). */
    targetVersion: pulumi.Input<string>;
    /**
     * Shell script run on the node over SSH (with `sh -c`). It gets NODE_NAME, TARGET_VERSION (as given),
     * TARGET_SEMVER (without the "v"), NODE_UPGRADE_REVISION and `environment` as environment variables:
     * reference them ("$TARGET_VERSION"), never paste values into the script. Must be idempotent (a failed
     * run is retried from the start by the next `pulumi up`).
     */
    upgradeCommand: pulumi.Input<string>;
    /**
     * Kubeconfig YAML (stored as a secret with every step). One of kubeconfig / kubeconfigConfigKey /
     * kubeconfigPath is required.
     */
    kubeconfig?: pulumi.Input<string>;
    /**
     * The stack configuration key holding the kubeconfig, e.g. "my-project:kubeconfig" (set with
     * `pulumi config set --secret kubeconfig < ~/.kube/config`). Recommended: the steps read it from the
     * configuration the engine gives the provider, so the kubeconfig is not copied into the state, and a rotated
     * kubeconfig is used by the next `pulumi up` or `pulumi refresh` without any update.
     */
    kubeconfigConfigKey?: string;
    kubeconfigPath?: pulumi.Input<string>;
    context?: pulumi.Input<string>;
    ssh?: SshArgs;
    /** Extra environment variables for the upgrade (and before-drain) commands. */
    environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** The upgrade needs a reboot: after the command, reboot detached (rebootCommand) and wait for NotReady → Ready. */
    reboot?: pulumi.Input<boolean>;
    /** Default `sudo systemd-run --on-active=5 /bin/systemctl reboot` (returns at once, reboots 5 s later). */
    rebootCommand?: pulumi.Input<string>;
    /**
     * kubectl drain options, plus workload-aware pacing: `maxUnavailablePerWorkload` (default 1) keeps at most
     * that many pods of each Deployment/StatefulSet without a PodDisruptionBudget unavailable during the drain,
     * evicting the next one once a replacement is Ready elsewhere; 0 = kubectl's all-at-once eviction.
     */
    drain?: DrainArgs;
    /** Wait for Ready at the target: "15m" (default), seconds, 0 = forever. */
    readyTimeout?: pulumi.Input<string | number>;
    /** Time the node must stay Ready before uncordon ("2m"). Default 0. */
    soak?: pulumi.Input<string | number>;
    /** With reboot: how long to wait to see the node go NotReady. Default 5m. */
    notReadyTimeout?: pulumi.Input<string | number>;
    /** How often NodeReady polls the node ("2s" default). */
    readyPollInterval?: pulumi.Input<string | number>;
    /**
     * Time limit for the upgrade command on the node ("30m"): the script runs under `timeout` (coreutils or
     * busybox, on the node) and is stopped (TERM, then KILL 30 s later) when it runs longer; the node stays
     * cordoned. Pulumi's customTimeouts cannot do this: @pulumi/command 1.2.1 bounds only the SSH dial with them.
     */
    upgradeTimeout?: pulumi.Input<string | number>;
    /** Resources to run after the cordon and before the drain (silence alerts, snapshot etcd...). */
    beforeDrain?: BeforeDrainHook;
    /** A command run on the node (same connection and variables) after the cordon, before the drain. */
    beforeDrainCommand?: pulumi.Input<string>;
    /** Bump to re-run the whole chain at the same version. */
    revision?: pulumi.Input<string>;
    /** Nodes already at the target (and not cordoned by us) are left alone. Default true. */
    skipIfAtTarget?: pulumi.Input<boolean>;
    /** Program-time cluster access (InternalIP lookup). Default: the drain engine with the kubeconfig above. */
    clusterReader?: ClusterReader;
    /**
     * Safe in a shared cluster: the roll lock (a Lease kube-system/node-upgrade, on by default), kured's lock
     * (honoured by default), health gates and a maintenance window, all checked before the node is cordoned.
     */
    sharedCluster?: SharedClusterArgs;
}

/** One node's outcome, exported by the root program. Never contains credentials. */
export interface NodeUpgradeReport {
    node: string;
    targetVersion: string;
    versionBefore: string;
    versionAfter: string;
    /** The node already ran the target version: nothing was done. */
    alreadyAtTarget: boolean;
    cordoned: boolean;
    evictedPods: string[];
    evictedCount: number;
    skippedPods: string[];
    drainWarnings: string[];
    drainSeconds: number;
    readyWaitSeconds: number;
    soakSeconds: number;
    uncordoned: boolean;
    startedAt: string;
    finishedAt: string;
    totalSeconds: number;
    steps: { cordon: string; drain: string; ready: string; uncordon: string };
}

export const DEFAULT_REBOOT_COMMAND = "sudo systemd-run --on-active=5 /bin/systemctl reboot";
const RESERVED_VARIABLES = ["NODE_NAME", "TARGET_VERSION", "TARGET_SEMVER", "NODE_UPGRADE_REVISION"];

/** The environment the node's commands run with. */
function commandVariables(
    nodeName: string,
    targetVersion: string,
    revision: string | undefined,
    extra: Record<string, string> | undefined,
) {
    const vars: Record<string, string> = {
        NODE_NAME: nodeName,
        TARGET_VERSION: targetVersion,
        TARGET_SEMVER: targetVersion.replace(/^v/i, ""),
    };
    if (revision) vars.NODE_UPGRADE_REVISION = revision;
    for (const [k, v] of Object.entries(extra ?? {})) {
        if (RESERVED_VARIABLES.includes(k)) throw new Error(`environment variable ${k} is set by node-upgrade and cannot be overridden`);
        const problem = envNameProblem(k);
        if (problem) throw new Error(problem);
        vars[k] = String(v);
    }
    return vars;
}

/** Validates what is known synchronously, so mistakes show before any resource registers. */
function validatePlainArgs(name: string, args: NodeUpgradeArgs): void {
    const node = plainValue(args.nodeName);
    throwIfProblems(`NodeUpgrade ${name}`, [node !== undefined ? nodeNameProblem(node) : undefined, ...plainArgsProblems(args)]);
}

/**
 * What is wrong with the settings given as plain values (Outputs are checked by the providers' check instead),
 * so a mistake stops `pulumi preview` before anything registers. Shared with RollingNodeUpgrade.
 */
export function plainArgsProblems(args: Omit<Partial<NodeUpgradeArgs>, "nodeName">): (string | undefined)[] {
    const version = plainValue(args.targetVersion);
    const env = plainValue(args.environment);
    const command = plainValue(args.upgradeCommand);
    const duration = (what: string, input: pulumi.Input<string | number> | undefined, opts: { positive?: boolean } = {}) => {
        const value = plainValue(input);
        if (value === undefined || value === null || value === "") return undefined;
        const r = durationSeconds(what, value, parseDuration);
        if (r.problem) return r.problem;
        return opts.positive && !(r.seconds! > 0) ? `${what} must be above zero, got ${JSON.stringify(value)}` : undefined;
    };
    const podSelector = plainValue(args.drain?.podSelector);
    return [
        version !== undefined ? versionProblem(version) : undefined,
        command === "" ? "upgradeCommand must not be empty" : nulProblem("upgradeCommand", command),
        nulProblem("rebootCommand", plainValue(args.rebootCommand)),
        nulProblem("beforeDrainCommand", plainValue(args.beforeDrainCommand)),
        nulProblem("revision", plainValue(args.revision)),
        ...Object.entries(env && typeof env === "object" ? env : {}).map(([k, v]) =>
            RESERVED_VARIABLES.includes(k)
                ? `environment variable ${k} is set by node-upgrade and cannot be overridden`
                : (envNameProblem(k) ?? nulProblem(`environment variable ${k}`, plainValue(v))),
        ),
        duration("readyTimeout", args.readyTimeout),
        duration("soak", args.soak),
        duration("notReadyTimeout", args.notReadyTimeout),
        duration("readyPollInterval", args.readyPollInterval, { positive: true }),
        duration("drain.timeout", args.drain?.timeout),
        duration("upgradeTimeout", args.upgradeTimeout, { positive: true }),
        podSelector !== undefined && podSelector !== "" ? selectorProblem("drain.podSelector", podSelector) : undefined,
        ...sharedClusterOptions(args.sharedCluster).problems,
    ];
}

export class NodeUpgrade extends pulumi.ComponentResource {
    public readonly nodeName: pulumi.Output<string>;
    public readonly targetVersion: pulumi.Output<string>;
    public readonly cordon: NodeCordon;
    /** Resources created by the before-drain hook and command. */
    public readonly beforeDrain: pulumi.Resource[];
    public readonly drain: NodeDrain;
    public readonly upgrade: command.remote.Command;
    public readonly ready: NodeReady;
    public readonly uncordon: NodeUncordon;
    public readonly report: pulumi.Output<NodeUpgradeReport>;

    constructor(name: string, args: NodeUpgradeArgs, opts?: pulumi.ComponentResourceOptions) {
        // Only harmless identifying inputs are recorded for the component itself: the full args may hold a
        // plain-text kubeconfig or SSH key, and every step records its own inputs (secrets wrapped) anyway.
        validatePlainArgs(name, args); // before anything registers
        super("node-upgrade:index:NodeUpgrade", name, { nodeName: args.nodeName, targetVersion: args.targetVersion }, opts);

        // Raw inputs are combined with applyAll (not pulumi.all over pulumi.output wrappers): a roll builds this
        // for every node, and each wrapper Output is memory the SDK holds until the node's turn (construction.ts).
        const nodeName = pulumi.output(args.nodeName);
        const targetVersion = pulumi.output(args.targetVersion);
        const reboot = args.reboot ?? false;
        const rebootCommand = args.rebootCommand ?? DEFAULT_REBOOT_COMMAND;
        const environment = args.environment ?? {};

        // The upgrade command (and what else decides what happens on the host) as one short hash: a new
        // command re-runs every step of the chain, not just the SSH command.
        const commandHash = applyAll(
            [args.upgradeCommand, reboot, rebootCommand, args.beforeDrainCommand ?? "", environment],
            ([cmd, rb, rbCmd, hook, env]) =>
                crypto
                    .createHash("sha256")
                    .update(JSON.stringify([cmd, rb, rb ? rbCmd : "", hook, Object.entries(env).sort()]))
                    .digest("hex")
                    .slice(0, 16),
        );
        const step: NodeStepArgs = {
            nodeName,
            targetVersion,
            commandHash,
            revision: args.revision,
            // With a config key the kubeconfig stays out of the state (the steps read the key from the provider's config).
            kubeconfig: args.kubeconfigConfigKey ? undefined : secretOnce(args.kubeconfig),
            kubeconfigConfigKey: args.kubeconfigConfigKey,
            kubeconfigPath: args.kubeconfigPath,
            context: args.context,
        };
        const variables = applyAll([args.nodeName, args.targetVersion, args.revision, environment], ([n, v, r, env]) =>
            commandVariables(n, v, r, env as Record<string, string>),
        );

        // The lock, gates and window travel with the cordon (taken before it) and the uncordon (released after it).
        const shared = sharedClusterOptions(args.sharedCluster).options;
        const sharedCluster = sharedClusterEnabled(shared)
            ? { sharedCluster: shared, stack: `${pulumi.getProject()}/${pulumi.getStack()}` }
            : {};

        // opts.dependsOn (e.g. the previous batch's uncordon) applies to the first step explicitly.
        this.cordon = new NodeCordon(
            `${name}-cordon`,
            { ...step, skipIfAtTarget: args.skipIfAtTarget, ...sharedCluster },
            { parent: this, dependsOn: opts?.dependsOn },
        );

        const connection = this.connection(name, args);
        const hooks: pulumi.Resource[] = [];
        if (args.beforeDrain) {
            const made = args.beforeDrain({ nodeName, cordon: this.cordon, opts: { parent: this, dependsOn: [this.cordon] } });
            if (made) hooks.push(...(Array.isArray(made) ? made : [made]));
        }
        if (args.beforeDrainCommand !== undefined) {
            const hookCreate = applyAll([this.cordon.alreadyAtTarget, args.beforeDrainCommand, variables], ([atTarget, hook, vars]) =>
                commandWithEnv(vars, atTarget ? alreadyAtTargetScript("before-drain command") : hook),
            );
            hooks.push(
                new command.remote.Command(`${name}-before-drain`, onlyWithTheCordon(connection, hookCreate, this.cordon.runId), {
                    parent: this,
                    dependsOn: [this.cordon],
                    ignoreChanges: COMMAND_IGNORED_INPUTS,
                }),
            );
        }
        this.beforeDrain = hooks;

        this.drain = new NodeDrain(
            `${name}-drain`,
            { ...step, ...(args.drain ?? {}), skipIfAtTarget: args.skipIfAtTarget, chainRunId: this.cordon.runId },
            { parent: this, dependsOn: [this.cordon, ...hooks] },
        );

        // When the drain found the node already at the target, the command becomes a harmless echo, so a
        // roll over partly-upgraded nodes never re-runs the upgrade on them.
        const upgradeCreate = applyAll(
            [this.drain.alreadyAtTarget, args.upgradeCommand, reboot, rebootCommand, variables, args.upgradeTimeout ?? ""],
            ([atTarget, cmd, rb, rbCmd, vars, limit]) => {
                if (atTarget) return commandWithEnv(vars, alreadyAtTargetScript("upgrade"));
                const timeout = limit === "" ? {} : durationSeconds("upgradeTimeout", limit, parseDuration);
                if (timeout.problem) throw new Error(`NodeUpgrade ${name}: ${timeout.problem}`);
                const timeoutSeconds = timeout.seconds ? Math.ceil(timeout.seconds) : undefined;
                const upgradeLine = commandWithEnv(vars, cmd, { timeoutSeconds, what: "upgradeTimeout" });
                return rb ? `${upgradeLine} && ${commandWithEnv(vars, rbCmd)}` : upgradeLine;
            },
        );
        this.upgrade = new command.remote.Command(`${name}-upgrade`, onlyWithTheCordon(connection, upgradeCreate, this.cordon.runId), {
            parent: this,
            dependsOn: [this.drain],
            ignoreChanges: COMMAND_IGNORED_INPUTS,
        });

        this.ready = new NodeReady(
            `${name}-ready`,
            {
                ...step,
                chainRunId: this.cordon.runId,
                timeout: args.readyTimeout,
                soak: args.soak,
                expectNotReady: applyAll([reboot, this.drain.alreadyAtTarget], ([rb, atTarget]) => !!rb && !atTarget),
                notReadyTimeout: args.notReadyTimeout,
                pollInterval: args.readyPollInterval,
            },
            { parent: this, dependsOn: [this.upgrade] },
        );

        this.uncordon = new NodeUncordon(
            `${name}-uncordon`,
            { ...step, chainRunId: this.cordon.runId, ...sharedCluster },
            { parent: this, dependsOn: [this.ready] },
        );

        this.nodeName = nodeName;
        this.targetVersion = targetVersion;
        this.report = buildReport(nodeName, targetVersion, this.cordon, this.drain, this.ready, this.uncordon);
        this.registerOutputs({ nodeName, targetVersion, report: this.report });
    }

    /** The SSH connection; the host defaults to the node's InternalIP, read from the cluster at program time. */
    private connection(name: string, args: NodeUpgradeArgs): command.types.input.remote.ConnectionArgs {
        const ssh = args.ssh ?? {};
        const secret = secretOnce;
        const host =
            ssh.host ??
            pulumi
                .all([args.nodeName, args.kubeconfig, args.kubeconfigPath, args.context])
                .apply(async ([node, kubeconfig, kubeconfigPath, context]) => {
                    const fromConfig = args.kubeconfigConfigKey
                        ? stackConfigValue(`NodeUpgrade ${name}: kubeconfigConfigKey`, args.kubeconfigConfigKey)
                        : undefined;
                    const reader =
                        args.clusterReader ?? kubeClusterReader({ kubeconfig: fromConfig ?? kubeconfig, kubeconfigPath, context });
                    const info = await reader.readNode(node);
                    if (!info.internalIP) {
                        throw new Error(`NodeUpgrade ${name}: node "${node}" reports no InternalIP address; set ssh.host for it`);
                    }
                    return info.internalIP;
                });
        return {
            host,
            port: ssh.port,
            user: ssh.user,
            privateKey: secret(ssh.privateKey),
            privateKeyPassword: secret(ssh.privateKeyPassword),
            password: secret(ssh.password),
            agentSocketPath: ssh.agentSocketPath,
            hostKey: ssh.hostKey,
            dialErrorLimit: ssh.dialErrorLimit,
            perDialTimeout: ssh.perDialTimeout,
            proxy: ssh.proxy,
        };
    }
}

/**
 * Inputs of the node's commands whose change alone must not run anything. In @pulumi/command 1.2.1 a change of
 * ANY input is an update, and an update runs `update` or else `create` again over SSH (provider/pkg/provider/
 * remote/commandController.go Update): rotating an SSH key would re-run the upgrade on every node, undrained.
 * Ignored inputs keep their stored value (pkg/resource/deploy/step_generator.go processIgnoreChanges), so only
 * `triggers` can change, and that is a replace, whose create gets the new values: the engine checks the raw
 * program inputs again for a replacement (step_generator.go, the replace path re-runs Check).
 */
const COMMAND_IGNORED_INPUTS = ["connection", "create", "update", "addPreviousOutputInEnv"];

/** Does nothing. Only reachable if an input outside COMMAND_IGNORED_INPUTS ever changes (e.g. a new SDK default). */
const NO_OP_UPDATE = "true";

/**
 * A node command that runs only as part of a chain that cordoned (and, for the upgrade, drained) the node in
 * the same `pulumi up`: its only trigger is the cordon's run id, which changes exactly when the cordon runs.
 */
function onlyWithTheCordon(
    connection: command.types.input.remote.ConnectionArgs,
    create: pulumi.Input<string>,
    cordonRunId: pulumi.Output<string>,
): command.remote.CommandArgs {
    return { connection, create, update: NO_OP_UPDATE, triggers: [cordonRunId], addPreviousOutputInEnv: false };
}

/** The script run instead of a command on a node that needs no upgrade (values come from the environment). */
function alreadyAtTargetScript(what: string): string {
    return `echo "node-upgrade: $NODE_NAME already runs $TARGET_VERSION; skipping the ${what}"`;
}

function buildReport(
    nodeName: pulumi.Output<string>,
    targetVersion: pulumi.Output<string>,
    cordon: NodeCordon,
    drain: NodeDrain,
    ready: NodeReady,
    uncordon: NodeUncordon,
): pulumi.Output<NodeUpgradeReport> {
    const fields = {
        node: nodeName,
        targetVersion,
        versionBefore: cordon.versionBefore,
        alreadyAtTarget: cordon.alreadyAtTarget,
        cordoned: cordon.cordoned,
        startedAt: cordon.startedAt,
        cordonMessage: cordon.message,
        evictedPods: drain.evictedPods,
        skippedPods: drain.skippedPods,
        drainWarnings: drain.warnings,
        drainSeconds: drain.drainSeconds,
        drainMessage: drain.message,
        versionAfter: ready.kubeletVersion,
        readyWaitSeconds: ready.waitedSeconds,
        soakSeconds: ready.soakedSeconds,
        readyMessage: ready.message,
        uncordoned: uncordon.uncordoned,
        finishedAt: uncordon.finishedAt,
        uncordonMessage: uncordon.message,
    };
    const keys = Object.keys(fields) as (keyof typeof fields)[];
    return applyAll(
        keys.map((k) => fields[k]),
        (values) =>
            Object.fromEntries(keys.map((k, i) => [k, values[i]])) as { [K in keyof typeof fields]: pulumi.Unwrap<(typeof fields)[K]> },
    ).apply((r) => {
        const total = r.startedAt && r.finishedAt ? (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000 : 0;
        return {
            node: r.node,
            targetVersion: r.targetVersion,
            versionBefore: r.versionBefore ?? "",
            versionAfter: r.versionAfter ?? "",
            alreadyAtTarget: !!r.alreadyAtTarget,
            cordoned: !!r.cordoned,
            evictedPods: r.evictedPods ?? [],
            evictedCount: (r.evictedPods ?? []).length,
            skippedPods: r.skippedPods ?? [],
            drainWarnings: r.drainWarnings ?? [],
            drainSeconds: r.drainSeconds ?? 0,
            readyWaitSeconds: r.readyWaitSeconds ?? 0,
            soakSeconds: r.soakSeconds ?? 0,
            uncordoned: !!r.uncordoned,
            startedAt: r.startedAt ?? "",
            finishedAt: r.finishedAt ?? "",
            totalSeconds: Math.round(total * 10) / 10,
            steps: {
                cordon: r.cordonMessage ?? "",
                drain: r.drainMessage ?? "",
                ready: r.readyMessage ?? "",
                uncordon: r.uncordonMessage ?? "",
            },
        };
    });
}
