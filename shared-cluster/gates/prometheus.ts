// Prometheus gates, over its HTTP API (Node's fetch, no dependency):
//   alerts: GET {url}/api/v1/alerts — firing alerts block (pending ones too with includePending), optionally only
//           those whose name matches / does not match a regexp (kured's --alert-filter-match-only /
//           --alert-filter-regexp; unanchored, as kured's Go regexp.MatchString) and whose labels satisfy matchers
//           in PromQL syntax (severity=critical, team!=dev, env=~"prod|stage", job!~"test.*"; =~ and !~ are
//           anchored as in PromQL).
//   query:  GET {url}/api/v1/query?query=… — the query must return an empty vector/matrix; otherwise the first
//           few series are named in the reason (e.g. `ALERTS{alertstate="firing"}` or `up == 0`).
// Unreachable Prometheus or an error answer blocks (we fail closed), with the error as the reason. An unreachable
// Prometheus, a 5xx, a 422 execution error (it depends on the data at that moment: duplicate series while a target
// restarts, too many samples; VictoriaMetrics answers 422 for every error, storage outages too) and a 499 (query
// cancelled, e.g. Prometheus shutting down) are waited out; 400 (bad_data), 401, 403, 404 and a 422 whose
// errorType is bad_data end the wait at once: asking again gets the same answer.
// The URL is shown without userinfo or query string (redactUrl); credentials go in `headers`.
import { NETWORK_WORDS, redactUrl } from "../../drain";
import { blocked, CheckError, pass, type Gate, type GateResult } from "../gate";
import { prometheusUrlProblem, promQueryProblem, regexpProblem } from "../rules";

export interface PrometheusOptions {
    /** Base URL, e.g. http://prometheus.monitoring:9090 (a path prefix is kept). No user:password@: use `headers`. */
    url: string;
    /** Extra request headers, e.g. { Authorization: "Bearer …" } or { Authorization: "Basic <base64 of user:password>" }. */
    headers?: Record<string, string>;
    /** Time limit of one request. Default 10 s. */
    timeoutMs?: number;
}

export interface PrometheusAlertsOptions extends PrometheusOptions {
    /** Pending alerts block too. Default false: only firing ones (kured counts pending ones unless --alert-firing-only). */
    includePending?: boolean;
    /** Only alerts whose name matches this regexp block. */
    alertNames?: string;
    /** Alerts whose name matches this regexp never block. */
    ignoreAlertNames?: string;
    /** Label matchers that must all hold for an alert to block. */
    matchers?: string[];
}

export interface PrometheusQueryOptions extends PrometheusOptions {
    /** PromQL that returns nothing when it is safe to go on. */
    query: string;
    /** How many series to name in the reason. Default 3. */
    showSeries?: number;
}

/** One alert from /api/v1/alerts. */
export interface PromAlert {
    name: string;
    state: string;
    labels: Record<string, string>;
    activeAt?: string;
}

export interface LabelMatcher {
    label: string;
    op: "=" | "!=" | "=~" | "!~";
    value: string;
    regex?: RegExp;
}

/** Pure: parses `name=value`, `name!="value"`, `name=~"re"`, `name!~re`. */
export function parseLabelMatcher(text: string): LabelMatcher {
    const m = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/.exec(text);
    if (!m) throw new Error(`invalid label matcher ${JSON.stringify(text)}: use name=value, name!=value, name=~regexp or name!~regexp`);
    let value = m[3];
    if (/^".*"$/.test(value) || /^'.*'$/.test(value)) value = value.slice(1, -1);
    const op = m[2] as LabelMatcher["op"];
    const matcher: LabelMatcher = { label: m[1], op, value };
    if (op === "=~" || op === "!~") matcher.regex = compileRegex(`^(?:${value})$`, `label matcher ${JSON.stringify(text)}`);
    return matcher;
}

function compileRegex(source: string, what: string): RegExp {
    const problem = regexpProblem(source);
    if (problem) throw new Error(`invalid regexp in ${what}: ${problem}`);
    return new RegExp(source);
}

export function matcherHolds(m: LabelMatcher, labels: Record<string, string>): boolean {
    const v = labels[m.label] ?? "";
    switch (m.op) {
        case "=":
            return v === m.value;
        case "!=":
            return v !== m.value;
        case "=~":
            return m.regex!.test(v);
        case "!~":
            return !m.regex!.test(v);
    }
}

interface CompiledAlertFilter {
    includePending: boolean;
    only?: RegExp;
    ignore?: RegExp;
    matchers: LabelMatcher[];
}

function compileAlertFilter(o: Omit<PrometheusAlertsOptions, "url">): CompiledAlertFilter {
    return {
        includePending: !!o.includePending,
        only: o.alertNames ? compileRegex(o.alertNames, "alertNames") : undefined,
        ignore: o.ignoreAlertNames ? compileRegex(o.ignoreAlertNames, "ignoreAlertNames") : undefined,
        matchers: (o.matchers ?? []).map(parseLabelMatcher),
    };
}

const MAX_NAMED = 5;

/** Pure: which of `alerts` block, as a gate result (names the first few). */
export function evaluateAlerts(alerts: PromAlert[], o: Omit<PrometheusAlertsOptions, "url"> = {}): GateResult {
    const f = compileAlertFilter(o);
    const blocking = alerts.filter(
        (a) =>
            (a.state === "firing" || (f.includePending && a.state === "pending")) &&
            (!f.only || f.only.test(a.name)) &&
            (!f.ignore || !f.ignore.test(a.name)) &&
            f.matchers.every((m) => matcherHolds(m, a.labels)),
    );
    const states = f.includePending ? "firing or pending" : "firing";
    if (blocking.length === 0)
        return pass(`no ${states} alert${alertFilterText(o)} (${alerts.length} alert${alerts.length === 1 ? "" : "s"} in total)`);
    const named = blocking.slice(0, MAX_NAMED).map((a) => {
        const extra = Object.entries(a.labels)
            .filter(([k]) => k !== "alertname")
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(", ");
        return `${a.name}${extra ? `{${extra}}` : ""} (${a.state}${a.activeAt ? ` since ${a.activeAt}` : ""})`;
    });
    const more = blocking.length > MAX_NAMED ? ` and ${blocking.length - MAX_NAMED} more` : "";
    return blocked(`${blocking.length === 1 ? "alert" : `${blocking.length} alerts`} ${states}: ${named.join(", ")}${more}`);
}

function alertFilterText(o: Omit<PrometheusAlertsOptions, "url">): string {
    const parts: string[] = [];
    if (o.alertNames) parts.push(`name ~ /${o.alertNames}/`);
    if (o.ignoreAlertNames) parts.push(`name !~ /${o.ignoreAlertNames}/`);
    if (o.matchers?.length) parts.push(o.matchers.join(", "));
    return parts.length ? ` matching ${parts.join(", ")}` : "";
}

function endpoint(base: string, path: string, params?: Record<string, string>): string {
    const problem = prometheusUrlProblem(base);
    if (problem) throw new Error(problem);
    const u = new URL(base);
    u.pathname = `${u.pathname.replace(/\/+$/, "")}${path}`;
    for (const [k, v] of Object.entries(params ?? {})) u.searchParams.set(k, v);
    return u.toString();
}

/**
 * Pure: Prometheus will give the same answer to the same request — 400 (bad_data: a query it cannot parse or a bad
 * parameter), 401, 403, 404, and a 422 whose `errorType` is bad_data. Not a 422 execution error (Prometheus: it
 * depends on the data at that moment; VictoriaMetrics: any error, storage outages too), a 499 (query cancelled,
 * e.g. on shutdown), any other 4xx or a 5xx: those are worth asking again.
 */
export function isFinalAnswer(status: number, errorType?: string): boolean {
    if (status === 400 || status === 401 || status === 403 || status === 404) return true;
    return status === 422 && errorType === "bad_data";
}

/**
 * What to fix for a final answer: the query (400, 422 bad_data) or the URL and headers.
 * `query`: the PromQL asked, for the query gate.
 */
function finalHint(status: number, query: string | undefined): string {
    if (query !== undefined && (status === 400 || status === 422)) return `; fix the PromQL of query ${JSON.stringify(query)}`;
    if (status === 401 || status === 403) return "; check the credentials in the gate's headers";
    if (status === 404) return "; check the Prometheus URL (a path prefix?)";
    return "";
}

/**
 * GET a Prometheus API path; returns `data` of a success answer, or throws a CheckError with Prometheus' own
 * error text (final as isFinalAnswer says). Header values (tokens) never appear in messages, nor the URL's userinfo
 * or query string (redactUrl).
 */
async function promGet(
    o: PrometheusOptions,
    path: string,
    params: Record<string, string> | undefined,
    signal?: AbortSignal,
    query?: string,
): Promise<any> {
    const url = endpoint(o.url, path, params);
    const shown = redactUrl(o.url);
    const signals = [AbortSignal.timeout(o.timeoutMs ?? 10_000)];
    if (signal) signals.push(signal);
    let res: Response;
    try {
        res = await fetch(url, { headers: { Accept: "application/json", ...(o.headers ?? {}) }, signal: AbortSignal.any(signals) });
    } catch (err: any) {
        if (signal?.aborted) throw signal.reason;
        const code = err?.cause?.code;
        const cause = NETWORK_WORDS[code]
            ? `${NETWORK_WORDS[code]} (${code})`
            : (code ?? redactUrl(String(err?.cause?.message ?? err?.message ?? err)));
        throw new CheckError(`cannot reach Prometheus at ${shown}: ${err?.name === "TimeoutError" ? "timed out" : cause}`, false);
    }
    const text = await res.text();
    const what = query !== undefined ? `query ${JSON.stringify(query)}` : path;
    let body: any;
    try {
        body = JSON.parse(text);
    } catch {
        const final = isFinalAnswer(res.status);
        throw new CheckError(
            `Prometheus at ${shown} answered ${what} with HTTP ${res.status} without JSON${res.ok ? "" : `: ${text.slice(0, 200).trim()}`}` +
                (final ? finalHint(res.status, query) : ""),
            final,
        );
    }
    if (!res.ok || body?.status !== "success") {
        const final = isFinalAnswer(res.status, body?.errorType);
        throw new CheckError(
            `Prometheus at ${shown} answered ${what} with HTTP ${res.status}: ${body?.errorType ? `${body.errorType}: ` : ""}${body?.error ?? "no error text"}` +
                (final ? finalHint(res.status, query) : ""),
            final,
        );
    }
    return body.data;
}

/** The alerts Prometheus evaluates now (GET /api/v1/alerts). */
export async function fetchAlerts(o: PrometheusOptions, signal?: AbortSignal): Promise<PromAlert[]> {
    const data = await promGet(o, "/api/v1/alerts", undefined, signal);
    return (data?.alerts ?? []).map((a: any) => ({
        name: String(a?.labels?.alertname ?? ""),
        state: String(a?.state ?? ""),
        labels: a?.labels ?? {},
        activeAt: a?.activeAt,
    }));
}

export function prometheusAlertsGate(o: PrometheusAlertsOptions): Gate {
    endpoint(o.url, "/"); // validate now, not on the first check
    compileAlertFilter(o);
    return {
        name: `Prometheus alerts at ${redactUrl(o.url)}`,
        check: async (signal) => evaluateAlerts(await fetchAlerts(o, signal), o),
    };
}

/** A query answer's `data`: { resultType, result }. */
export interface QueryData {
    resultType: "vector" | "matrix" | "scalar" | "string" | string;
    result: any;
}

/** `{job="api", instance="a:9100"} = 1` (`{}` for a series without labels). */
export function formatSeries(s: { metric?: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }): string {
    const m = s.metric ?? {};
    const name = m.__name__ ?? "";
    const labels = Object.entries(m)
        .filter(([k]) => k !== "__name__")
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(", ");
    const value = s.value?.[1] ?? s.values?.[s.values.length - 1]?.[1];
    return `${name}{${labels}}${value !== undefined ? ` = ${value}` : ""}`;
}

/** Pure: an empty vector/matrix passes; otherwise blocked naming the first few series. Scalars/strings are a mistake (final). */
export function evaluateQueryResult(data: QueryData, o: { query: string; showSeries?: number }): GateResult {
    if (data.resultType === "scalar" || data.resultType === "string")
        return blocked(
            `query ${JSON.stringify(o.query)} returns a ${data.resultType}, never an empty result: use a vector expression (e.g. add a comparison)`,
            {
                final: true,
            },
        );
    const series: any[] = Array.isArray(data.result) ? data.result : [];
    if (series.length === 0) return pass(`query ${JSON.stringify(o.query)} returns no series`);
    const n = o.showSeries ?? 3;
    const shown = series.slice(0, n).map(formatSeries);
    const more = series.length > n ? ` and ${series.length - n} more` : "";
    return blocked(`query ${JSON.stringify(o.query)} returns ${series.length} series: ${shown.join("; ")}${more}`);
}

/** Runs an instant query (GET /api/v1/query). */
export async function runQuery(o: PrometheusOptions & { query: string }, signal?: AbortSignal): Promise<QueryData> {
    return promGet(o, "/api/v1/query", { query: o.query }, signal, o.query);
}

export function prometheusQueryGate(o: PrometheusQueryOptions): Gate {
    endpoint(o.url, "/");
    const problem = promQueryProblem(o.query);
    if (problem) throw new Error(`Prometheus query gate: ${problem}`);
    return {
        name: `Prometheus query at ${redactUrl(o.url)}`,
        check: async (signal) => evaluateQueryResult(await runQuery(o, signal), o),
    };
}
