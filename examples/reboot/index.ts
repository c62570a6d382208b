// Nodes that need a reboot: a k3s upgrade together with the OS's updates, kernel included. Per node, server
// nodes first: cordon, drain, then over SSH install the OS updates and the k3s binary of the target release
// (checked against the release's checksums), reboot (reboot: true runs the detached rebootCommand after the
// script), wait to see the node go NotReady and come back Ready at the target version, soak, uncordon.
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_REBOOT_COMMAND, RollingNodeUpgrade } from "pulumi-node-upgrade";

const config = new pulumi.Config();
const selector = config.get("selector");
const revision = config.get("revision");

const upgradeCommand = `
set -eu
export DEBIAN_FRONTEND=noninteractive

# 1. OS updates, kernel included; the reboot below starts the new kernel.
sudo apt-get update
sudo apt-get -y -o Dpkg::Options::=--force-confold full-upgrade

# 2. the k3s binary of the target release (server or agent alike: systemd starts it again after the reboot)
case "$(uname -m)" in
  x86_64)  BIN=k3s;       SUMS=sha256sum-amd64.txt ;;
  aarch64) BIN=k3s-arm64; SUMS=sha256sum-arm64.txt ;;
  *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
TAG="$(printf %s "$TARGET_VERSION" | sed 's/+/%2B/')"
DIR="$(mktemp -d)"
trap 'rm -rf "$DIR"' EXIT
curl -sfL -o "$DIR/$BIN" "https://github.com/k3s-io/k3s/releases/download/$TAG/$BIN"
curl -sfL -o "$DIR/$SUMS" "https://github.com/k3s-io/k3s/releases/download/$TAG/$SUMS"
(cd "$DIR" && grep " $BIN\\$" "$SUMS" | sha256sum -c -)
sudo install -m 0755 "$DIR/$BIN" /usr/local/bin/k3s
`;

const roll = new RollingNodeUpgrade("k3s", {
    // The stack config key of the kubeconfig (`pulumi config set --secret kubeconfig < ~/.kube/config`): the
    // steps read it from the configuration, so it never enters the state and a rotated one just works.
    kubeconfigConfigKey: `${pulumi.getProject()}:kubeconfig`,
    // Every Linux node unless a selector narrows it down; rolled in name order, server nodes first.
    selector: selector || "kubernetes.io/os=linux",
    targetVersion: config.require("targetVersion"),
    upgradeCommand,
    reboot: true,
    rebootCommand: DEFAULT_REBOOT_COMMAND, // sudo systemd-run --on-active=5 /bin/systemctl reboot
    // A revision re-runs every node at the same version: then nodes already at the target must not be skipped.
    revision,
    skipIfAtTarget: revision ? false : true,
    ssh: {
        user: config.get("sshUser") ?? "ubuntu",
        privateKey: config.requireSecret("sshPrivateKey"),
        hostKey: config.get("sshHostKey"),
    },
    drain: { ignoreDaemonSets: true, deleteEmptyDirData: true, timeout: "15m" },
    upgradeTimeout: "30m",
    notReadyTimeout: "5m",
    readyTimeout: "20m",
    soak: "2m",
});

export const rollBatches = roll.batches;
export const nodeUpgradeReport = roll.report;
