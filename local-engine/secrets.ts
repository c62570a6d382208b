// How secret values look in what the Pulumi SDK hands to mocks, and how the engine unwraps them before calling a
// provider that does not accept secrets.

/** The envelope the SDK uses for secret values in mock inputs. */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";
export const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

export function isSecretEnvelope(v: unknown): v is { value: unknown } {
    return !!v && typeof v === "object" && (v as any)[SECRET_SIG] === SECRET_VALUE;
}

/** The unknown-value sentinel the engine sends providers for values not known in preview. */
export const UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * Removes secret envelopes (what the engine does before calling a provider that does not accept secrets), and
 * turns the SDK's unknown values into the sentinel string the engine sends over gRPC (sdk/go/common/resource/
 * plugin/rpc.go UnknownStringValue).
 */
export function stripSecrets(v: any): any {
    if (v && typeof v === "object" && v.__pulumiUnknown === true) return UNKNOWN_SENTINEL;
    if (isSecretEnvelope(v)) return stripSecrets(v.value);
    if (Array.isArray(v)) return v.map(stripSecrets);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, stripSecrets(x)]));
    return v;
}
