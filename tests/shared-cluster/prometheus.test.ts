// The Prometheus gates against a real Prometheus (Debian's `prometheus` package): started on 127.0.0.1 with a
// free port, its own temporary config and a rule file with an alert that always fires and one that stays pending.
// Skipped, with the reason, when the binary is missing (install: apt-get install -y prometheus).
import assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { GateBlockedError, preflight, prometheusAlertsGate, prometheusQueryGate, runQuery, waitUntil } from "../../shared-cluster";
import { prometheusPerSuite } from "../helpers/prometheus";
import { JumpClock } from "./helpers";

describe("shared-cluster: Prometheus gates against a real Prometheus", function () {
    this.timeout(120_000);
    const prometheus = prometheusPerSuite();
    let url = "";
    before(() => (url = prometheus.url));

    it("the alerts gate blocks, naming AlwaysFiring (firing only by default)", async () => {
        const r = await prometheusAlertsGate({ url }).check();
        assert.equal(r.ok, false);
        assert.match((r as any).reason, /^alert firing: AlwaysFiring\{severity="critical"\} \(firing since \S+\)$/);
    });

    it("pending alerts block only with includePending; name filters and label matchers narrow what blocks", async () => {
        const pending = await prometheusAlertsGate({ url, includePending: true }).check();
        assert.match(
            (pending as any).reason,
            /^2 alerts firing or pending: .*AlwaysFiring.*AlwaysPending\{severity="warning"\} \(pending since /,
        );
        const critical = await prometheusAlertsGate({ url, includePending: true, matchers: ["severity=critical"] }).check();
        assert.match((critical as any).reason, /^alert firing or pending: AlwaysFiring/);
        assert.deepEqual(await prometheusAlertsGate({ url, ignoreAlertNames: "^Always" }).check(), {
            ok: true,
            detail: "no firing alert matching name !~ /^Always/ (2 alerts in total)",
        });
        assert.equal(
            (await prometheusAlertsGate({ url, alertNames: "Pending" }).check()).ok,
            true,
            "only AlwaysPending counts, and it is pending",
        );
    });

    it("waitUntil fails with an error naming the alert", async () => {
        await assert.rejects(waitUntil(prometheusAlertsGate({ url }), 0), (e: any) => {
            assert.ok(e instanceof GateBlockedError);
            assert.match(e.message, /^blocked by Prometheus alerts at http:\/\/127\.0\.0\.1:\d+: alert firing: AlwaysFiring/);
            return true;
        });
    });

    it("a query gate: `vector(1) > 0` blocks naming its series, `vector(0) > 0` passes", async () => {
        const yes = await prometheusQueryGate({ url, query: "vector(1) > 0" }).check();
        assert.deepEqual(yes, { ok: false, reason: 'query "vector(1) > 0" returns 1 series: {} = 1' });
        assert.deepEqual(await prometheusQueryGate({ url, query: "vector(0) > 0" }).check(), {
            ok: true,
            detail: 'query "vector(0) > 0" returns no series',
        });
        // the rule's ALERTS series is written after the alert shows in /api/v1/alerts: wait until it is queryable
        const query = 'ALERTS{alertstate="firing"}';
        await waitUntil(
            {
                name: "ALERTS series",
                check: async () => ((await runQuery({ url, query })).result.length ? { ok: true } : { ok: false, reason: "no series yet" }),
            },
            30_000,
            undefined,
            { pollMs: 100 },
        );
        const alerts = await prometheusQueryGate({ url, query }).check();
        assert.match(
            (alerts as any).reason,
            /returns 1 series: ALERTS\{alertname="AlwaysFiring", alertstate="firing", severity="critical"\} = 1$/,
        );
    });

    it("a query Prometheus rejects (HTTP 400) stops the wait at once, naming it; scalar results are refused as a mistake", async () => {
        // ten minutes to wait, on a clock that jumps: retrying the bad query would use them all up
        const clock = new JumpClock();
        const started = clock.now();
        const bad = await waitUntil(prometheusQueryGate({ url, query: "vector(1" }), 10 * 60_000, undefined, { clock }).catch((e) => e);
        assert.equal(bad.timedOut, false);
        assert.equal(clock.now(), started, "not checked again");
        assert.match(
            bad.message,
            /^blocked by Prometheus query at http:\/\/127\.0\.0\.1:\d+: the check failed, and waiting cannot help: Prometheus at http:\/\/127\.0\.0\.1:\d+ answered query "vector\(1" with HTTP 400: bad_data: .*; fix the PromQL of query "vector\(1"$/,
        );
        const scalar = await runQuery({ url, query: "1" });
        assert.equal(scalar.resultType, "scalar");
        const r = await prometheusQueryGate({ url, query: "1" }).check();
        assert.ok(!r.ok && r.final);
    });

    it("a 422 execution error (depends on the data at that moment) is retried and reported until the timeout, not final", async () => {
        // many-to-many matching: Prometheus answers 422 {errorType: "execution"} (duplicate series, as while a target restarts)
        const query = 'vector(1) + on() (vector(1) or label_replace(vector(1), "a", "b", "", ""))';
        const clock = new JumpClock();
        const reports: string[] = [];
        const err = await waitUntil(prometheusQueryGate({ url, query }), 60_000, (p) => reports.push(p.reason), {
            clock,
            pollMs: 10_000,
            reportEveryMs: 0,
        }).catch((e) => e);
        assert.ok(err instanceof GateBlockedError);
        assert.equal(err.timedOut, true, err.message);
        assert.ok(reports.length >= 5, `checked again and reported: ${reports.length}`);
        for (const r of [...reports, err.reason])
            assert.match(
                r,
                /^the check failed: Prometheus at http:\/\/127\.0\.0\.1:\d+ answered query .* with HTTP 422: execution: .*many-to-many/,
            );
    });

    it("the URL's query string (a secret) is shown neither in the gate name nor in messages", async () => {
        const secretUrl = `${url}/?token=s3cret`;
        const alerts = await waitUntil(prometheusAlertsGate({ url: secretUrl }), 0).catch((e) => e);
        assert.match(alerts.message, /^blocked by Prometheus alerts at http:\/\/127\.0\.0\.1:\d+\/: alert firing: AlwaysFiring/);
        const bad = prometheusQueryGate({ url: secretUrl, query: "vector(1" });
        const r = await waitUntil(bad, 0).catch((e) => e);
        assert.match(r.message, /answered query "vector\(1" with HTTP 400: bad_data/);
        for (const text of [alerts.message, bad.name, r.message]) assert.doesNotMatch(text, /s3cret/);
    });

    it("preflight lists the blocking alert next to the passing query", async () => {
        const report = await preflight(undefined as any, {
            gates: [
                { type: "alerts", url, matchers: ["severity=critical"] },
                { type: "query", url, query: "vector(0) > 0" },
            ],
        });
        assert.equal(report.ok, false);
        assert.deepEqual(
            report.items.map((i) => [i.ok, i.name]),
            [
                [false, `Prometheus alerts at ${url}`],
                [true, `Prometheus query at ${url}`],
            ],
        );
        assert.match(report.items[0].message, /AlwaysFiring/);
    });
});

// What real Prometheus cannot be made to answer on demand (a cancelled query, VictoriaMetrics' 422 for a storage
// outage, a 422 bad_data): a stand-in HTTP server that gives the queued answers in turn, then the last one again.
describe("shared-cluster: Prometheus gate answers that are retried or final (a stand-in server)", () => {
    let server: http.Server;
    let url = "";
    let answers: Array<{ status: number; body: unknown }> = [];
    let requests = 0;
    const EMPTY = { status: 200, body: { status: "success", data: { resultType: "vector", result: [] } } };

    before(async () => {
        server = http.createServer((_req, res) => {
            const a = answers[Math.min(requests++, answers.length - 1)];
            res.writeHead(a.status, { "Content-Type": "application/json" }).end(JSON.stringify(a.body));
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    beforeEach(() => (requests = 0));
    after(() => {
        server.closeAllConnections();
        return new Promise((r) => server.close(r));
    });

    const wait = (reports: string[]) =>
        waitUntil(prometheusQueryGate({ url, query: "up == 0" }), 10 * 60_000, (p) => reports.push(p.reason), { clock: new JumpClock() });

    it("499 (query cancelled, e.g. Prometheus shutting down) is retried and reported", async () => {
        answers = [
            { status: 499, body: { status: "error", errorType: "canceled", error: "query was canceled in expression evaluation" } },
            EMPTY,
        ];
        const reports: string[] = [];
        assert.deepEqual(await wait(reports), { ok: true, detail: 'query "up == 0" returns no series' });
        assert.equal(requests, 2);
        assert.deepEqual(reports, [
            `the check failed: Prometheus at ${url} answered query "up == 0" with HTTP 499: canceled: query was canceled in expression evaluation`,
        ]);
    });

    it("422 is retried unless its errorType is bad_data (VictoriaMetrics answers 422 for a storage outage); 422 bad_data is final", async () => {
        answers = [
            { status: 422, body: { status: "error", errorType: "422", error: "cannot fetch data: storage node unavailable" } },
            EMPTY,
        ];
        const reports: string[] = [];
        assert.equal((await wait(reports)).ok, true);
        assert.equal(requests, 2);
        assert.match(reports[0], /^the check failed: Prometheus at .* with HTTP 422: 422: cannot fetch data: storage node unavailable$/);

        requests = 0;
        answers = [{ status: 422, body: { status: "error", errorType: "bad_data", error: 'unknown function "upp"' } }, EMPTY];
        const bad = await wait([]).catch((e) => e);
        assert.ok(bad instanceof GateBlockedError);
        assert.equal(bad.timedOut, false);
        assert.equal(requests, 1, "not asked again");
        assert.equal(
            bad.reason,
            `the check failed, and waiting cannot help: Prometheus at ${url} answered query "up == 0" with HTTP 422: bad_data: unknown function "upp"; fix the PromQL of query "up == 0"`,
        );
    });
});
