// Upgrading a kubeadm cluster the way the kubeadm documentation describes, node by node and control plane
// first, with each node cordoned and drained while it is upgraded:
//   1. the kubeadm package at the target version;
//   2. `kubeadm upgrade apply` on the first control-plane node, `kubeadm upgrade node` on every other node;
//   3. the kubelet and kubectl packages, then a kubelet restart.
// One script serves every node: it reads NODE_NAME, TARGET_SEMVER and the variables in `environment` from its
// environment, so no value is pasted into it. A failed node stops the roll there, cordoned; the script is
// idempotent, so the next `pulumi up` simply runs it again on that node.
import * as pulumi from "@pulumi/pulumi";
import { RollingNodeUpgrade } from "pulumi-node-upgrade";

const config = new pulumi.Config();
const controlPlanes = config.requireObject<string[]>("controlPlanes");
const workers = config.getObject<string[]>("workers") ?? [];
if (controlPlanes.length === 0) throw new Error("config controlPlanes must name at least one control-plane node");

const upgradeCommand = `
set -eu
export DEBIAN_FRONTEND=noninteractive
PKG="$TARGET_SEMVER-$PACKAGE_REVISION"
MINOR="$(echo "$TARGET_SEMVER" | cut -d. -f1,2)"

# pkgs.k8s.io has one repository per minor version: point apt at the target's.
echo "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v$MINOR/deb/ /" |
  sudo tee /etc/apt/sources.list.d/kubernetes.list >/dev/null
sudo apt-get update

# 1. kubeadm
sudo apt-get install -y --allow-change-held-packages kubeadm="$PKG"
sudo apt-mark hold kubeadm

# 2. the control plane and the node's configuration
if [ "$NODE_NAME" = "$FIRST_CONTROL_PLANE" ]; then
  sudo kubeadm upgrade apply -y "v$TARGET_SEMVER"
else
  sudo kubeadm upgrade node
fi

# 3. kubelet and kubectl, then the kubelet restart
sudo apt-get install -y --allow-change-held-packages kubelet="$PKG" kubectl="$PKG"
sudo apt-mark hold kubelet kubectl
sudo systemctl daemon-reload
sudo systemctl restart kubelet
`;

const roll = new RollingNodeUpgrade("kubeadm", {
    // The stack config key of the kubeconfig (`pulumi config set --secret kubeconfig < ~/.kube/config`): the
    // steps read it from the configuration, so it never enters the state and a rotated one just works.
    kubeconfigConfigKey: `${pulumi.getProject()}:kubeconfig`,
    // Control-plane nodes go first and one at a time (controlPlaneFirst is the default), in the order given.
    nodes: [...controlPlanes, ...workers],
    targetVersion: config.require("targetVersion"),
    upgradeCommand,
    environment: {
        FIRST_CONTROL_PLANE: controlPlanes[0],
        PACKAGE_REVISION: config.get("packageRevision") ?? "1.1",
    },
    maxUnavailable: config.getNumber("workerBatch") ?? 1,
    // Never more than two nodes down, whatever workerBatch says.
    maxNodesDownAtOnce: 2,
    ssh: {
        user: config.get("sshUser") ?? "ubuntu",
        privateKey: config.requireSecret("sshPrivateKey"),
        hostKey: config.get("sshHostKey"),
    },
    drain: { ignoreDaemonSets: true, deleteEmptyDirData: true, timeout: "15m" },
    // `kubeadm upgrade apply` pulls images and restarts the static pods: give it time.
    upgradeTimeout: "30m",
    readyTimeout: "10m",
    // Let the upgraded control plane settle before the next node goes down.
    soak: "1m",
});

export const rollBatches = roll.batches;
export const nodeUpgradeReport = roll.report;
