// Scale benchmark: a RollingNodeUpgrade of 1,000 nodes (given as a list) built under Pulumi mocks, with a fake
// cluster reader so no API is needed. Measures what `pulumi preview`/`up` pays in the program before any
// step runs: registering every resource with the monitor, memory, the size of the serialized providers, and
// the size of the state the engine writes.
//   npm run bench:scale        (NODES=… to change the size; MAX_UNAVAILABLE=… for batches;
//                               KUBECONFIG_MODE=inline to pass the kubeconfig as a value instead of a config key)
// Ends with one line:
//   nodes=N resources=N construct_s=X peak_mb=Y provider_bytes_per_resource=Z state_bytes_per_node=S
// construct_s: from the start of construction until every resource has been registered with the mock monitor.
// peak_mb: peak resident set size sampled every 20 ms during construction (heap is reported on stderr too).
// provider_bytes_per_resource: average length of the `__provider` string over the dynamic resources.
// state_bytes_per_node: the JSON the engine would write for one node's resources after `up`: each resource's
//   inputs and outputs (a step's outputs are its inputs echoed plus its results, as the providers return them;
//   a command's are its inputs plus stdout/stderr; a component's are what it registers), secrets as the
//   passphrase secrets manager stores them (AES-256-GCM, base64), with a 5 KB kubeconfig in the stack config.
// The package is loaded as a user installs it (node_modules/pulumi-node-upgrade, local-engine/installed-package.ts),
// so the providers are stored as a require() by package name, not by value as from this checkout.
// Targets: construct_s ≤ 10, peak_mb ≤ 500, provider_bytes_per_resource ≤ 20000, state_bytes_per_node ≤ 10000.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { makeInstalledProgram, requireInstalled } from "../local-engine";
// The same plausible step outputs the graph tests use, so every Output downstream resolves as in a real `up`.
import { stepOutputs } from "../tests/helpers/pulumi-mocks";

const NODES = Number(process.env.NODES ?? 1000);
const MAX_UNAVAILABLE = Number(process.env.MAX_UNAVAILABLE ?? 1);
const CONTROL_PLANES = 3;
const INLINE = process.env.KUBECONFIG_MODE === "inline";
const TARGETS = { construct_s: 10, peak_mb: 500, provider_bytes_per_resource: 20000, state_bytes_per_node: 10000 };

/** A 5 KB kubeconfig: a client certificate and key, as `kubeadm` writes them. */
const KUBECONFIG = `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://10.0.0.1:6443\n    certificate-authority-data: ${"Q".repeat(1500)}\nusers:\n- name: u\n  user:\n    client-certificate-data: ${"C".repeat(1500)}\n    client-key-data: ${"K".repeat(1900)}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n`;

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const KEY = crypto.randomBytes(32);

/** A value as the engine writes it to the state: secrets encrypted and wrapped (pkg/resource/stack/secrets.go). */
function stateValue(v: any): any {
    if (v && typeof v === "object" && v[SECRET_SIG]) {
        const nonce = crypto.randomBytes(12);
        const cipher = crypto.createCipheriv("aes-256-gcm", KEY, nonce);
        const body = Buffer.concat([cipher.update(JSON.stringify(stateValue(v.value))), cipher.final(), cipher.getAuthTag()]);
        return {
            [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270",
            ciphertext: `v1:${nonce.toString("base64")}:${body.toString("base64")}`,
        };
    }
    if (Array.isArray(v)) return v.map(stateValue);
    if (v && typeof v === "object")
        return Object.fromEntries(
            Object.entries(v)
                .filter(([, x]) => x !== undefined)
                .map(([k, x]) => [k, stateValue(x)]),
        );
    return v;
}

/** The outputs the engine stores for a resource, from its registered inputs (see the header). */
function modelledOutputs(args: pulumi.runtime.MockResourceArgs): Record<string, any> {
    if (!args.custom) return {};
    const results = stepOutputs(args);
    if (args.type === "command:remote:Command") return { ...args.inputs, ...results };
    const echoed = Object.fromEntries(Object.entries(args.inputs).filter(([, v]) => v !== undefined));
    return {
        ...echoed,
        inputKeys: Object.keys(echoed)
            .filter((k) => k !== "__provider")
            .sort(),
        ...results,
        runId: "0123456789abcdef",
    };
}

async function main() {
    const gc = (global as any).gc as (() => void) | undefined;
    const expected = 1 + NODES * 6; // the roll, and per node: component, cordon, drain, command, ready, uncordon
    let registered = 0;
    let dynamic = 0;
    let providerBytes = 0;
    let stateBytes = 0;
    let lastRegistration = 0;
    let allRegistered!: () => void;
    const done = new Promise<void>((r) => (allRegistered = r));

    const mocks: pulumi.runtime.Mocks = {
        newResource(args) {
            registered++;
            if (args.type.startsWith("pulumi-nodejs:dynamic")) {
                dynamic++;
                providerBytes += String(args.inputs.__provider ?? "").length;
            }
            // Components' outputs come later (registerOutputs); a custom resource's are modelled from its inputs.
            const entry = { type: args.type, inputs: stateValue(args.inputs), outputs: stateValue(modelledOutputs(args)) };
            stateBytes += JSON.stringify(entry).length;
            lastRegistration = performance.now();
            if (registered === expected) allRegistered();
            const state = args.custom ? { ...args.inputs, ...stepOutputs(args) } : {};
            return { id: args.custom ? `${args.name}-id` : (undefined as any), state };
        },
        call(args) {
            throw new Error(`unexpected invoke ${args.token}`);
        },
    };
    await pulumi.runtime.setMocks(mocks, "node-upgrade", "bench");
    pulumi.runtime.setAllConfig({ "node-upgrade:kubeconfig": KUBECONFIG }, ["node-upgrade:kubeconfig"]);
    // The components from a copy installed the way npm installs it (the providers then serialize by package name).
    const program = makeInstalledProgram("bench");
    const { RollingNodeUpgrade } = requireInstalled<typeof import("../components")>(program, "components/index.js");

    const names = Array.from({ length: NODES }, (_, i) => (i < CONTROL_PLANES ? `cp-${i}` : `worker-${String(i).padStart(4, "0")}`));
    const nodes = names.map((name, i) => ({
        name,
        unschedulable: false,
        cordonedByUs: false,
        ready: true,
        kubeletVersion: "v1.29.3",
        internalIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        controlPlane: i < CONTROL_PLANES,
        labels: {},
    }));
    const clusterReader = {
        listNodes: async () => nodes,
        readNode: async (name: string) => {
            const n = nodes.find((x) => x.name === name);
            if (!n) throw new Error(`node "${name}" not found`);
            return n;
        },
    };

    gc?.();
    let peakRss = process.memoryUsage().rss;
    let peakHeap = process.memoryUsage().heapUsed;
    const sampler = setInterval(() => {
        const m = process.memoryUsage();
        peakRss = Math.max(peakRss, m.rss);
        peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 20);

    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const roll = new RollingNodeUpgrade("roll", {
        ...(INLINE ? { kubeconfig: pulumi.secret(KUBECONFIG) } : { kubeconfigConfigKey: "node-upgrade:kubeconfig" }),
        nodes: names,
        targetVersion: "v1.30.0",
        upgradeCommand: 'sudo apt-get install -y kubelet="$TARGET_SEMVER-00" && sudo systemctl restart kubelet',
        environment: { APT_PROXY: "http://proxy:3142" },
        ssh: {
            user: "ubuntu",
            privateKey: pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nbench\n-----END OPENSSH PRIVATE KEY-----\n"),
        },
        drain: { ignoreDaemonSets: true, deleteEmptyDirData: true, timeout: "10m" },
        readyTimeout: "15m",
        maxUnavailable: MAX_UNAVAILABLE,
        clusterReader,
    });
    const timeout = setTimeout(() => {
        console.error(`bench:scale: only ${registered} of ${expected} resources registered after 300 s`);
        process.exit(1);
    }, 300_000);
    await done;
    const constructS = (lastRegistration - start) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    clearTimeout(timeout);
    clearInterval(sampler);
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    // The roll's report resolves once every node's outputs are in: a sanity check that the graph is complete.
    const report = await (roll.report as any).promise();
    if (report.nodes.length !== NODES) throw new Error(`report has ${report.nodes.length} nodes, expected ${NODES}`);
    // Each node's component stores its report (and name, version) as outputs.
    for (const nodeReport of report.nodes)
        stateBytes += JSON.stringify({ nodeName: nodeReport.node, targetVersion: nodeReport.targetVersion, report: nodeReport }).length;
    // Let the components' registerOutputs calls reach the monitor, so the SDK reports no pending work at exit.
    await (roll.urn as any).promise();
    await new Promise((r) => setTimeout(r, 200));

    const peakMb = Math.round(peakRss / 1024 / 1024);
    const perResource = Math.round(providerBytes / Math.max(1, dynamic));
    const perNode = Math.round(stateBytes / NODES);
    console.error(
        `bench:scale: ${registered} resources (${dynamic} dynamic), ${Math.round(registered / constructS)} registrations/s, ` +
            `cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s, peak rss ${Math.round(peakRss / 1024 / 1024)} MB, peak heap ${Math.round(peakHeap / 1024 / 1024)} MB; targets construct_s<=${TARGETS.construct_s} peak_mb<=${TARGETS.peak_mb} ` +
            `provider_bytes_per_resource<=${TARGETS.provider_bytes_per_resource} state_bytes_per_node<=${TARGETS.state_bytes_per_node}; ` +
            `kubeconfig ${INLINE ? "passed as a value (stored with every step)" : "named by a stack config key (not stored)"}`,
    );
    console.log(
        `nodes=${NODES} resources=${registered} construct_s=${constructS.toFixed(2)} peak_mb=${peakMb} provider_bytes_per_resource=${perResource} state_bytes_per_node=${perNode}`,
    );
    const missed =
        constructS > TARGETS.construct_s ||
        peakMb > TARGETS.peak_mb ||
        perResource > TARGETS.provider_bytes_per_resource ||
        perNode > TARGETS.state_bytes_per_node;
    process.exit(missed ? 1 : 0);
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
