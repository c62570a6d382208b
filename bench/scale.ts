// Scale benchmark: a RollingNodeUpgrade of 1,000 nodes (given as a list) built under Pulumi mocks, with a fake
// cluster reader so no API is needed. Measures what `pulumi preview`/`up` pays in the program before any
// step runs: registering every resource with the monitor, memory, and the size of the serialized providers.
//   npm run bench:scale        (NODES=… to change the size; MAX_UNAVAILABLE=… for batches)
// Ends with one line:
//   nodes=N resources=N construct_s=X peak_mb=Y provider_bytes_per_resource=Z
// construct_s: from the start of construction until every resource has been registered with the mock monitor.
// peak_mb: peak resident set size sampled every 20 ms during construction (heap is reported on stderr too).
// provider_bytes_per_resource: average length of the `__provider` string over the dynamic resources.
// Targets: construct_s ≤ 10, peak_mb ≤ 500, provider_bytes_per_resource ≤ 20000.
import * as pulumi from "@pulumi/pulumi";
// The same plausible step outputs the graph tests use, so every Output downstream resolves as in a real `up`.
import { stepOutputs } from "../tests/helpers/pulumi-mocks";

const NODES = Number(process.env.NODES ?? 1000);
const MAX_UNAVAILABLE = Number(process.env.MAX_UNAVAILABLE ?? 1);
const CONTROL_PLANES = 3;
const TARGETS = { construct_s: 10, peak_mb: 500, provider_bytes_per_resource: 20000 };


async function main() {
    const gc = (global as any).gc as (() => void) | undefined;
    const expected = 1 + NODES * 6; // the roll, and per node: component, cordon, drain, command, ready, uncordon
    let registered = 0;
    let dynamic = 0;
    let providerBytes = 0;
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
    const { RollingNodeUpgrade } = await import("../components");

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
        kubeconfig: pulumi.secret("apiVersion: v1\nkind: Config\n# bench kubeconfig\n"),
        nodes: names,
        targetVersion: "v1.30.0",
        upgradeCommand: 'sudo apt-get install -y kubelet="$TARGET_SEMVER-00" && sudo systemctl restart kubelet',
        environment: { APT_PROXY: "http://proxy:3142" },
        ssh: { user: "ubuntu", privateKey: pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nbench\n-----END OPENSSH PRIVATE KEY-----\n") },
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
    // Let the components' registerOutputs calls reach the monitor, so the SDK reports no pending work at exit.
    await (roll.urn as any).promise();
    await new Promise((r) => setTimeout(r, 200));

    const peakMb = Math.round(peakRss / 1024 / 1024);
    const perResource = Math.round(providerBytes / Math.max(1, dynamic));
    console.error(
        `bench:scale: ${registered} resources (${dynamic} dynamic), ${Math.round(registered / constructS)} registrations/s, ` +
            `cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s, peak rss ${Math.round(peakRss / 1024 / 1024)} MB, peak heap ${Math.round(peakHeap / 1024 / 1024)} MB; targets construct_s<=${TARGETS.construct_s} peak_mb<=${TARGETS.peak_mb} ` +
            `provider_bytes_per_resource<=${TARGETS.provider_bytes_per_resource}`,
    );
    console.log(`nodes=${NODES} resources=${registered} construct_s=${constructS.toFixed(2)} peak_mb=${peakMb} provider_bytes_per_resource=${perResource}`);
    const missed = constructS > TARGETS.construct_s || peakMb > TARGETS.peak_mb || perResource > TARGETS.provider_bytes_per_resource;
    process.exit(missed ? 1 : 0);
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
