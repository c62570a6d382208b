// The walkthrough's practice as one Pulumi program: deploy http-go (10 replicas) with a PodDisruptionBudget,
// then upgrade the workers one at a time. What the walkthrough did by hand (kubectl drain worker1
// --ignore-daemonsets --delete-local-data, upgrade, kubectl uncordon worker1) is the RollingNodeUpgrade below;
// the budget makes every drain keep at least 9 of the 10 http-go pods Ready.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { RollingNodeUpgrade } from "pulumi-node-upgrade";

const config = new pulumi.Config();
const kubeconfig = config.requireSecret("kubeconfig");
const targetVersion = config.require("targetVersion");
const workers = config.getObject<string[]>("workers") ?? ["worker1", "worker2"];

const provider = new k8s.Provider("cluster", { kubeconfig });

// kubectl create deploy http-go --image=gasbugs/http-go; kubectl edit deploy http-go (replicas: 10)
const labels = { app: "http-go" };
const httpGo = new k8s.apps.v1.Deployment(
    "http-go",
    {
        metadata: { name: "http-go", namespace: "default", labels },
        spec: {
            replicas: 10,
            selector: { matchLabels: labels },
            template: {
                metadata: { labels },
                spec: { containers: [{ name: "http-go", image: "gasbugs/http-go", ports: [{ containerPort: 8080 }] }] },
            },
        },
    },
    { provider },
);

// What the walkthrough lacked: at most one http-go pod may be disrupted at a time.
const budget = new k8s.policy.v1.PodDisruptionBudget(
    "http-go",
    {
        metadata: { name: "http-go", namespace: "default" },
        spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
    },
    { provider },
);

const workersUpgrade = new RollingNodeUpgrade(
    "workers",
    {
        kubeconfig,
        nodes: workers,
        targetVersion,
        // Runs on each worker over SSH with `sh -c`, while it is drained. Values come from the environment
        // (TARGET_SEMVER is targetVersion without the "v"); nothing is pasted into the script.
        upgradeCommand: [
            "set -eu",
            "export DEBIAN_FRONTEND=noninteractive",
            "sudo apt-get update",
            'sudo apt-get install -y --allow-change-held-packages kubelet="$TARGET_SEMVER-$PACKAGE_REVISION" kubectl="$TARGET_SEMVER-$PACKAGE_REVISION"',
            "sudo apt-mark hold kubelet kubectl",
            "sudo systemctl daemon-reload",
            "sudo systemctl restart kubelet",
        ].join("\n"),
        environment: { PACKAGE_REVISION: config.get("packageRevision") ?? "1.1" },
        ssh: {
            user: config.get("sshUser") ?? "ubuntu",
            privateKey: config.requireSecret("sshPrivateKey"),
            // One host key for every node (RollingNodeUpgrade passes the same ssh settings to each node).
            hostKey: config.get("sshHostKey"),
        },
        // kubectl drain --ignore-daemonsets --delete-emptydir-data --timeout=10m
        drain: { ignoreDaemonSets: true, deleteEmptyDirData: true, timeout: "10m" },
        readyTimeout: "10m",
    },
    // Start only once http-go runs and its budget exists.
    { dependsOn: [httpGo, budget] },
);

export const rollBatches = workersUpgrade.batches;
export const nodeUpgradeReport = workersUpgrade.report;
