import { readFileSync } from "node:fs";
import { Ajv, type ValidateFunction, type ErrorObject } from "ajv";
import addFormatsModule from "ajv-formats";

/**
 * The operations of GitHub's published OpenAPI description that the app calls, from the subset
 * extracted by scripts/extract-openapi-subset.ts. Requests are matched and validated here.
 */

interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required?: boolean;
  schema: object;
}

interface RawOperation {
  operationId: string;
  parameters: Parameter[];
  requestBody: object | null;
  requestBodyRequired: boolean;
  response: { status: number; schema: object | null } | null;
}

export interface Operation {
  key: string;
  method: string;
  operationId: string;
  pathRegex: RegExp;
  pathParams: string[];
  validateParams: ValidateFunction;
  validateBody: ValidateFunction | null;
  bodyRequired: boolean;
  validateResponse: ValidateFunction | null;
  responseStatus: number;
}

const subset = JSON.parse(readFileSync(new URL("../../fixtures/github/openapi-subset.json", import.meta.url), "utf8")) as {
  packageVersion: string;
  operations: Record<string, RawOperation>;
};

export const OPENAPI_VERSION = subset.packageVersion;

const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false });
const addFormats = (addFormatsModule as unknown as { default?: (a: Ajv) => void }).default ?? (addFormatsModule as unknown as (a: Ajv) => void);
addFormats(ajv);
// Path and query values arrive as strings; a separate coercing instance checks them.
const paramAjv = new Ajv({ allErrors: true, strict: false, coerceTypes: true });
addFormats(paramAjv);

/** OpenAPI 3.0's `nullable` is not JSON Schema: turn it into a null type ajv understands. */
function normalize(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(normalize);
  if (schema === null || typeof schema !== "object") return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === "properties" || k === "patternProperties" ? mapValues(v, normalize) : normalize(v);
  if (out.nullable === true) {
    delete out.nullable;
    if (typeof out.type === "string") {
      out.type = [out.type, "null"];
      if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
      return out;
    }
    return { anyOf: [out, { type: "null" }] };
  }
  delete out.nullable;
  return out;
}

function mapValues(v: unknown, fn: (x: unknown) => unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fn(x)]));
}

export const operations: Operation[] = Object.entries(subset.operations).map(([key, raw]) => {
  const [method, path] = key.split(" ") as [string, string];
  const pathParams: string[] = [];
  const pattern = path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{([^}]+)\}/g, (_m, name: string) => {
    pathParams.push(name);
    // {path} in the contents API may hold slashes.
    return name === "path" ? "(.+)" : "([^/]+)";
  });
  const params = raw.parameters.filter((p) => p.in === "path" || p.in === "query");
  const paramSchema = {
    type: "object",
    properties: Object.fromEntries(params.map((p) => [p.name, normalize(p.schema)])),
    required: params.filter((p) => p.required).map((p) => p.name),
  };
  return {
    key,
    method,
    operationId: raw.operationId,
    pathRegex: new RegExp(`^${pattern}$`),
    pathParams,
    validateParams: paramAjv.compile(paramSchema),
    validateBody: raw.requestBody ? ajv.compile(normalize(raw.requestBody) as object) : null,
    bodyRequired: raw.requestBodyRequired,
    validateResponse: raw.response?.schema ? ajv.compile(normalize(raw.response.schema) as object) : null,
    responseStatus: raw.response?.status ?? 200,
  };
});

export function matchOperation(method: string, path: string): { op: Operation; params: Record<string, string> } | null {
  for (const op of operations) {
    if (op.method !== method) continue;
    const m = op.pathRegex.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    op.pathParams.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1]!)));
    return { op, params };
  }
  return null;
}

export function describeErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${e.instancePath || "(root)"} ${e.message ?? "is invalid"}${e.params && "allowedValues" in e.params ? `: ${JSON.stringify(e.params.allowedValues)}` : ""}`);
}
