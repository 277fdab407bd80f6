/**
 * How plain YAML scalars become JSON values, matching what `kubectl apply -f` and the API
 * server do. Both decode YAML with sigs.k8s.io/yaml, which uses go-yaml v2: YAML 1.1 style
 * resolution, not the YAML 1.2 core schema. So `yes`, `on`, `y` are `true` (also as map keys:
 * `on:` becomes the key "true"), `012` is octal 10, `1e3` is 1000, `1_000` is 1000, while
 * dates and sexagesimals (`1:30`) stay strings. Using the 1.2 core schema instead would make
 * fjord apply different objects than kubectl for the same file, silently.
 *
 * The rules below are ported from go-yaml v2's `resolve()` and checked against kubectl by
 * test/render-yaml-compat.test.ts. Where JavaScript cannot hold the value kubectl would send
 * (an int64 beyond 2^53, .inf, .nan) parsing fails instead of sending something else.
 */
import type { ScalarTag } from "yaml";

const TRUE_WORDS = ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"];
const FALSE_WORDS = ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"];

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Go's strconv.ParseUint(s, 0, 64) syntax (underscores already removed): prefixed, leading-0 octal, or decimal. */
const GO_UNSIGNED = /^(?:0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/;
/** go-yaml v2 only hands a scalar to ParseFloat when it matches this. */
const YAML_STYLE_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
/** Scalars starting with "." go straight to ParseFloat, which allows Go-style `_` between digits. */
const DOT_FLOAT = /^\.[0-9](?:_?[0-9])*(?:[eE][-+]?[0-9](?:_?[0-9])*)?$/;

export type GoYamlScalar = { value: number | string } | { unrepresentable: string };

/** The value of a Go integer literal as strconv.ParseUint(s, 0, 64) reads it, ignoring range. */
function goUnsigned(digits: string): bigint | undefined {
  if (!GO_UNSIGNED.test(digits)) return undefined;
  // JavaScript reads "012" as decimal; Go's base-0 parse reads a leading zero as octal.
  if (/^0[0-7]+$/.test(digits)) return BigInt(`0o${digits.slice(1)}`);
  return BigInt(digits.length > 2 && /^0[bBoOxX]/.test(digits) ? `0${digits[1]!.toLowerCase()}${digits.slice(2)}` : digits);
}

/** strconv.ParseInt(s, 0, 64) or ParseUint: an optional sign, then the unsigned syntax. */
function goSigned(text: string): bigint | undefined {
  const sign = text[0] === "-" || text[0] === "+" ? text[0] : "";
  const magnitude = goUnsigned(text.slice(sign.length));
  if (magnitude === undefined) return undefined;
  return sign === "-" ? -magnitude : magnitude;
}

/** strconv.ParseInt(s, 2, 64): explicit base 2, which (unlike base 0) still accepts a sign. */
function goBinary(text: string): bigint | undefined {
  const match = /^([-+]?)([01]+)$/.exec(text);
  if (!match) return undefined;
  const magnitude = BigInt(`0b${match[2]}`);
  return match[1] === "-" ? -magnitude : magnitude;
}

function fromInt64(value: bigint, source: string): GoYamlScalar {
  if (value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) {
    return { value: Number(value) };
  }
  return {
    unrepresentable: `integer ${source} cannot be held exactly by fjord (JavaScript numbers are exact only up to 2^53); quote it if it is meant as a string`,
  };
}

function finite(number: number): number | undefined {
  if (!Number.isFinite(number)) return undefined; // Go's ParseFloat reports a range error; the scalar stays a string
  return number === 0 ? 0 : number; // -0 would survive JSON as 0 anyway; keep comparisons simple
}

/**
 * go-yaml v2's reading of a plain scalar that starts with a digit, a sign or a dot: an
 * integer, a float, or (when nothing matches) the string itself.
 */
export function resolveGoYamlNumber(source: string): GoYamlScalar {
  if (source.startsWith(".")) {
    const number = DOT_FLOAT.test(source) ? finite(Number(source.replaceAll("_", ""))) : undefined;
    return { value: number ?? source };
  }
  const plain = source.replaceAll("_", "");
  const signed = goSigned(plain);
  if (signed !== undefined && signed >= INT64_MIN && signed <= INT64_MAX) return fromInt64(signed, source);
  // ParseUint takes no sign; values above int64 reach JSON as float64 in kubectl, as Number() gives.
  const unsigned = goUnsigned(plain);
  if (unsigned !== undefined && unsigned <= UINT64_MAX) return { value: Number(unsigned) };
  if (YAML_STYLE_FLOAT.test(plain)) {
    const number = finite(Number(plain));
    if (number !== undefined) return { value: number };
  }
  // go-yaml v2's own binary fallback, reachable only for oddities like "0b+101" and "0b-101".
  if (plain.startsWith("0b") || plain.startsWith("-0b")) {
    const digits = plain.startsWith("0b") ? plain.slice(2) : `-${plain.slice(3)}`;
    const binary = goBinary(digits);
    if (binary !== undefined && binary >= INT64_MIN && binary <= INT64_MAX) return fromInt64(binary, source);
  }
  return { value: source };
}

function numberTag(tag: string): ScalarTag {
  return {
    tag,
    default: true,
    // Every plain scalar go-yaml v2 would try as a number; the resolver returns strings it rejects.
    test: /^[-+.0-9]/,
    resolve(source, onError) {
      const result = resolveGoYamlNumber(source);
      if ("unrepresentable" in result) {
        onError(result.unrepresentable);
        return source;
      }
      return result.value;
    },
  };
}

/**
 * Scalar tags for the `yaml` package, to be used on top of its failsafe schema (maps, sequences,
 * strings) with merge keys enabled and known tags off, so that explicit `!!binary` and
 * `!!timestamp` behave as in kubectl rather than producing Uint8Array or Date objects.
 */
export const kubeScalarTags: ScalarTag[] = [
  {
    tag: "tag:yaml.org,2002:null",
    default: true,
    test: /^(?:~|null|Null|NULL)?$/,
    resolve: () => null,
  },
  {
    tag: "tag:yaml.org,2002:bool",
    default: true,
    // eslint-disable-next-line no-restricted-syntax -- built from the constant word lists, no user text
    test: new RegExp(`^(?:${[...TRUE_WORDS, ...FALSE_WORDS].join("|")})$`),
    resolve: (source) => TRUE_WORDS.includes(source),
  },
  {
    tag: "tag:yaml.org,2002:float",
    default: true,
    test: /^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
    resolve(source, onError) {
      onError(`${source} is not a JSON number, so Kubernetes cannot take it; quote it if it is meant as a string`);
      return source;
    },
  },
  numberTag("tag:yaml.org,2002:int"),
  numberTag("tag:yaml.org,2002:float"),
  {
    tag: "tag:yaml.org,2002:binary",
    // Only on explicit `!!binary`: kubectl decodes the base64 and sends the bytes as a string.
    resolve: (source) => Buffer.from(source.replace(/\s+/g, ""), "base64").toString("utf8"),
  },
];
