// Opt-in end-to-end test with the Pulumi Automation API: the real CLI and engine run the root program
// (Pulumi.yaml, index.ts) against a real cluster over real SSH. It runs only when both exist:
//   - a `pulumi` CLI on PATH (with the `command` resource plugin installable or installed), and
//   - NODE_UPGRADE_E2E_KUBECONFIG: path of a kubeconfig for a cluster you may roll.
// Further settings: NODE_UPGRADE_E2E_TARGET_VERSION (required), NODE_UPGRADE_E2E_UPGRADE_COMMAND (required),
// NODE_UPGRADE_E2E_NODES (comma-separated; default: NODE_UPGRADE_E2E_SELECTOR), NODE_UPGRADE_E2E_SSH_USER,
// NODE_UPGRADE_E2E_SSH_KEY_FILE, NODE_UPGRADE_E2E_EXTRA_CONFIG (JSON object of more config keys).
// Otherwise it is skipped with a message saying why.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { findPackageRoot } from "../../components/package-root";

const env = process.env;

describe("components: end-to-end with the Pulumi CLI and a real cluster (opt-in)", function () {
    this.timeout(60 * 60_000);
    let command: PulumiCommand | undefined;

    before(async function () {
        const reasons: string[] = [];
        try {
            command = await PulumiCommand.get({ skipVersionCheck: true });
        } catch {
            reasons.push("no `pulumi` CLI on PATH");
        }
        if (!env.NODE_UPGRADE_E2E_KUBECONFIG) reasons.push("NODE_UPGRADE_E2E_KUBECONFIG is not set");
        else if (!env.NODE_UPGRADE_E2E_TARGET_VERSION || !env.NODE_UPGRADE_E2E_UPGRADE_COMMAND) {
            reasons.push("NODE_UPGRADE_E2E_TARGET_VERSION and NODE_UPGRADE_E2E_UPGRADE_COMMAND must be set");
        }
        if (reasons.length) {
            console.log(`      skipping the end-to-end test: ${reasons.join("; ")}`);
            this.skip();
        }
    });

    it("preview plans the roll, up rolls the nodes, a second preview shows no changes, destroy touches nothing", async () => {
        const backend = fs.mkdtempSync(path.join(os.tmpdir(), "node-upgrade-e2e-"));
        const ws = await LocalWorkspace.create({
            workDir: findPackageRoot(__dirname),
            pulumiCommand: command,
            envVars: { PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: "e2e", PULUMI_SKIP_UPDATE_CHECK: "true" },
        });
        const stackName = `e2e-${Date.now()}`;
        const stack = await Stack.create(stackName, ws);
        try {
            await stack.setConfig("kubeconfig", { value: fs.readFileSync(env.NODE_UPGRADE_E2E_KUBECONFIG!, "utf8"), secret: true });
            await stack.setConfig("targetVersion", { value: env.NODE_UPGRADE_E2E_TARGET_VERSION! });
            await stack.setConfig("upgradeCommand", { value: env.NODE_UPGRADE_E2E_UPGRADE_COMMAND! });
            if (env.NODE_UPGRADE_E2E_NODES) {
                await stack.setAllConfig(
                    Object.fromEntries(env.NODE_UPGRADE_E2E_NODES.split(",").map((n, i) => [`nodes[${i}]`, { value: n.trim() }])),
                    true,
                );
            } else if (env.NODE_UPGRADE_E2E_SELECTOR) {
                await stack.setConfig("selector", { value: env.NODE_UPGRADE_E2E_SELECTOR });
            }
            if (env.NODE_UPGRADE_E2E_SSH_USER) await stack.setConfig("sshUser", { value: env.NODE_UPGRADE_E2E_SSH_USER });
            if (env.NODE_UPGRADE_E2E_SSH_KEY_FILE) {
                await stack.setConfig("sshPrivateKey", { value: fs.readFileSync(env.NODE_UPGRADE_E2E_SSH_KEY_FILE, "utf8"), secret: true });
            }
            for (const [k, v] of Object.entries(JSON.parse(env.NODE_UPGRADE_E2E_EXTRA_CONFIG ?? "{}"))) {
                await stack.setConfig(k, { value: typeof v === "string" ? v : JSON.stringify(v) });
            }

            const preview = await stack.preview({ onOutput: (s) => process.stdout.write(s) });
            assert.ok((preview.changeSummary.create ?? 0) > 0, "preview should plan resources");

            const up = await stack.up({ onOutput: (s) => process.stdout.write(s) });
            assert.strictEqual(up.summary.result, "succeeded");
            const report = up.outputs.nodeUpgradeReport.value;
            for (const n of report.nodes)
                assert.ok(
                    n.versionAfter.replace(/^v/, "").startsWith(env.NODE_UPGRADE_E2E_TARGET_VERSION!.replace(/^v/, "")),
                    JSON.stringify(n),
                );
            assert.ok(!JSON.stringify(up.outputs).includes("BEGIN"), "no credential in the outputs");

            const again = await stack.preview({ expectNoChanges: true });
            assert.strictEqual(again.changeSummary.update ?? 0, 0);

            await stack.destroy({ onOutput: (s) => process.stdout.write(s) });
        } finally {
            await ws.removeStack(stackName, { force: true }).catch(() => undefined);
            fs.rmSync(backend, { recursive: true, force: true });
        }
    });
});
