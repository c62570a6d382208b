// The root Pulumi program's logic: read the stack configuration (declared and documented in Pulumi.yaml) and
// build a RollingNodeUpgrade. Kept here, not in index.ts, so tests can run it under mocks with
// `pulumi.runtime.setAllConfig`.
import * as pulumi from "@pulumi/pulumi";
import { RollingNodeUpgrade, RollingNodeUpgradeArgs, RollingNodeUpgradeReport } from "./rolling-node-upgrade";
import { ClusterReader } from "./cluster-reader";
import type { SharedClusterArgs } from "./shared-cluster-args";
import type { GateSpec } from "../shared-cluster";

export interface RollFromConfigOptions {
    /** Logical name of the RollingNodeUpgrade. Default "roll". */
    name?: string;
    /** Program-time cluster access (tests inject a fake). */
    clusterReader?: ClusterReader;
}

export interface RollFromConfig {
    roll: RollingNodeUpgrade;
    report: pulumi.Output<RollingNodeUpgradeReport>;
}

/** Builds the roll the stack configuration describes. Every key is documented in Pulumi.yaml. */
export function rollFromConfig(config: pulumi.Config = new pulumi.Config(), options: RollFromConfigOptions = {}): RollFromConfig {
    const read = new ConfigReader(config);
    // The steps read the kubeconfig from the stack configuration by its key (never copied into the state, and a
    // rotated value is used at once, by refresh too); reading it here only checks that it is set as a secret.
    const kubeconfigSet = read.secret("kubeconfig") !== undefined;
    const args: RollingNodeUpgradeArgs = {
        kubeconfigConfigKey: kubeconfigSet ? `${config.name}:kubeconfig` : undefined,
        kubeconfigPath: read.string("kubeconfigPath"),
        context: read.string("kubeContext"),
        nodes: read.list("nodes"),
        selector: read.string("selector"),
        targetVersion: config.require("targetVersion"),
        upgradeCommand: config.require("upgradeCommand"),
        environment: read.pairs("upgradeEnvironment"),
        reboot: read.boolean("reboot"),
        rebootCommand: read.string("rebootCommand"),
        beforeDrainCommand: read.string("beforeDrainCommand"),
        revision: read.string("revision"),
        ssh: {
            user: read.string("sshUser"),
            port: read.number("sshPort"),
            privateKey: read.secret("sshPrivateKey"),
            privateKeyPassword: read.secret("sshPrivateKeyPassword"),
            password: read.secret("sshPassword"),
            hostKey: read.string("sshHostKey"),
            dialErrorLimit: read.number("sshDialErrorLimit"),
            perDialTimeout: read.number("sshPerDialTimeout"),
            hosts: read.pairs("sshHosts"),
        },
        drain: {
            force: read.boolean("drainForce"),
            ignoreDaemonSets: read.boolean("drainIgnoreDaemonSets"),
            deleteEmptyDirData: read.boolean("drainDeleteEmptyDirData"),
            gracePeriodSeconds: read.number("drainGracePeriod"),
            timeout: read.string("drainTimeout"),
            podSelector: read.string("drainPodSelector"),
            disableEviction: read.boolean("drainDisableEviction"),
            skipWaitForDeleteTimeoutSeconds: read.number("drainSkipWaitForDeleteTimeout"),
            maxUnavailablePerWorkload: read.number("drainMaxUnavailablePerWorkload"),
        },
        maxUnavailable: read.number("maxUnavailable"),
        maxNodesDownAtOnce: read.limit("maxNodesDownAtOnce"),
        maxNodesDownPercent: read.limit("maxNodesDownPercent"),
        controlPlaneFirst: read.boolean("controlPlaneFirst"),
        failOnBlockedPlan: read.boolean("failOnBlockedPlan"),
        soak: read.string("soak"),
        readyTimeout: read.string("readyTimeout"),
        notReadyTimeout: read.string("notReadyTimeout"),
        readyPollInterval: read.string("readyPollInterval"),
        upgradeTimeout: read.string("upgradeTimeout"),
        sharedCluster: sharedClusterFromConfig(read),
        clusterReader: options.clusterReader,
    };
    const roll = new RollingNodeUpgrade(options.name ?? "roll", args);
    return { roll, report: roll.report };
}

/** The roll lock, kured's lock, the health gates and the maintenance window (Pulumi.yaml documents each key). */
function sharedClusterFromConfig(read: ConfigReader): SharedClusterArgs {
    const lockName = read.string("lockName");
    const [namespace, name] = lockName?.includes("/") ? lockName.split("/", 2) : [undefined, lockName];
    const kured = read.string("kuredLock") ?? "wait";
    if (!["off", "wait", "take"].includes(kured)) throw new Error(`config "kuredLock" must be off, wait or take, not "${kured}"`);
    const gates: GateSpec[] = [];
    const podSelector = read.string("blockingPodSelector");
    if (podSelector) gates.push({ type: "pods", selector: podSelector });
    const prometheus = read.string("prometheusUrl");
    const query = read.string("prometheusQuery");
    const ignoreAlertNames = read.string("alertFilterRegexp");
    if (query && !prometheus) throw new Error(`config "prometheusQuery" needs "prometheusUrl" (the Prometheus to ask)`);
    if (prometheus) {
        // Alerts always gate when a Prometheus is given (as kured's --prometheus-url); a query adds a second gate.
        gates.push({ type: "alerts", url: prometheus, ignoreAlertNames });
        if (query) gates.push({ type: "query", url: prometheus, query });
    }
    const check = read.list("checkCommand");
    if (check) gates.push({ type: "command", command: check });
    return {
        lock:
            read.boolean("lock") === false
                ? false
                : { ...(namespace ? { namespace } : {}), ...(name ? { name } : {}), timeout: read.string("lockTimeout") },
        kuredLock: kured === "off" ? false : (kured as "wait" | "take"),
        gates,
        gatesTimeout: read.string("gatesTimeout"),
        maintenanceWindow: read.string("maintenanceWindow"),
    };
}

/**
 * Typed access to optional keys. Project-level config declares a default for every optional key (a key
 * without one is required by Pulumi), so "" / 0-length values mean "not set" here.
 */
class ConfigReader {
    constructor(private readonly config: pulumi.Config) {}

    string(key: string): string | undefined {
        const v = this.config.get(key);
        return v === undefined || v === "" ? undefined : v;
    }

    /** A secret value (kubeconfig, SSH key, password), or undefined when not set. Never read in clear. */
    secret(key: string): pulumi.Output<string> | undefined {
        // Presence is decided from the raw config so the value itself is only ever handled as a secret.
        const raw = pulumi.runtime.getConfig(`${this.config.name}:${key}`);
        if (raw === undefined || raw === "") return undefined;
        if (!isSecretConfig(`${this.config.name}:${key}`)) {
            pulumi.log.warn(`config "${key}" is stored in plain text in the stack file; set it with \`pulumi config set --secret ${key}\``);
        }
        return this.config.requireSecret(key);
    }

    boolean(key: string): boolean | undefined {
        return this.config.getBoolean(key);
    }

    number(key: string): number | undefined {
        return this.config.getNumber(key);
    }

    /** A limit where 0 (the declared default) means "no limit". */
    limit(key: string): number | undefined {
        const n = this.config.getNumber(key);
        return n === undefined || n === 0 ? undefined : n;
    }

    /** A list of strings (an array config value, or a JSON array in a string). Empty → undefined. */
    list(key: string): string[] | undefined {
        const v = this.config.getObject<unknown>(key);
        if (v === undefined || v === "") return undefined;
        if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw new Error(`config "${key}" must be a list of strings`);
        return v.length ? (v as string[]) : undefined;
    }

    /** A list of "name=value" strings as a map ("worker1=10.0.0.7"). */
    pairs(key: string): Record<string, string> | undefined {
        const list = this.list(key);
        if (!list) return undefined;
        const out: Record<string, string> = {};
        for (const item of list) {
            const i = item.indexOf("=");
            if (i <= 0) throw new Error(`config "${key}": each entry must look like name=value, got ${JSON.stringify(item)}`);
            out[item.slice(0, i)] = item.slice(i + 1);
        }
        return out;
    }
}

/** Whether the engine marked the key secret (false under mocks unless the test says so). */
function isSecretConfig(fullKey: string): boolean {
    const check = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
    return check ? check(fullKey) : true;
}
