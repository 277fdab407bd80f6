import type { KubeObject, RenderedObject, SourceLocation } from "../model/object.ts";
import { RenderError } from "./errors.ts";
import type { RenderBudget } from "./render-budget.ts";
import { yamlStream, type StreamOrigin, type YamlDocument } from "./yaml-stream.ts";

export interface DocumentOrigin {
  /** Where the objects came from, relative to the repository root. */
  file: string;
  /** False when document lines are lines of a tool's output, which mean nothing in `file`. */
  linesRefer: boolean;
  /** What to tell the user when a document is not a Kubernetes object. */
  notAnObjectFix: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  return `a ${typeof value}`;
}

/** Why a value is not a Kubernetes object, or undefined when it is one. */
function objectProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return `document is ${describeValue(value)}, not a Kubernetes object`;
  const hasApiVersion = typeof value.apiVersion === "string" && value.apiVersion !== "";
  const hasKind = typeof value.kind === "string" && value.kind !== "";
  if (!hasApiVersion && !hasKind) return "document has no apiVersion and kind, so it is not a Kubernetes object";
  if (!hasApiVersion) return "document has no apiVersion";
  if (!hasKind) return "document has no kind";
  if (value.metadata !== undefined && value.metadata !== null && !isRecord(value.metadata)) return "metadata is not a map";
  return undefined;
}

/** kubectl flattens lists (`kind: List` from `kubectl get -o yaml`, or any `*List`) into their items. */
function isList(value: Record<string, unknown>): value is Record<string, unknown> & { items: unknown[] } {
  return typeof value.kind === "string" && value.kind.endsWith("List") && Array.isArray(value.items);
}

function collect(value: unknown, source: SourceLocation, origin: DocumentOrigin, itemLines: number[] | undefined, out: RenderedObject[]): void {
  const problem = objectProblem(value);
  if (problem) {
    throw new RenderError("not-an-object", problem, {
      file: origin.file,
      ...(source.line !== undefined ? { line: source.line } : {}),
      fix: origin.notAnObjectFix,
    });
  }
  const object = value as Record<string, unknown>;
  if (isList(object)) {
    object.items.forEach((item, index) => {
      const line = itemLines?.[index];
      collect(item, line !== undefined ? { file: source.file, line } : source, origin, undefined, out);
    });
    return;
  }
  // Every consumer reads metadata; an object written without any gets an empty one, which
  // is what the API server would store anyway.
  if (object.metadata === undefined || object.metadata === null) object.metadata = {};
  out.push({ object: object as KubeObject, source });
}

/** The Kubernetes objects of parsed documents, in order; lists are flattened. */
export function objectsFromDocuments(docs: YamlDocument[], origin: DocumentOrigin): RenderedObject[] {
  const out: RenderedObject[] = [];
  for (const doc of docs) {
    const source: SourceLocation = origin.linesRefer ? { file: origin.file, line: doc.line } : { file: origin.file };
    collect(doc.value, source, origin, origin.linesRefer ? doc.itemLines : undefined, out);
  }
  return out;
}

/** Parsing a large output takes seconds; other reconciles (and leader election) get a turn this often. */
const SLICE_MS = 20;

/**
 * The objects of one YAML text (a file, or a tool's output), document by document: each
 * document's syntax tree is dropped once converted, the event loop gets a turn between
 * documents, and the budget refuses the render at the first limit it passes.
 */
export async function readObjects(text: string, stream: StreamOrigin, origin: DocumentOrigin, budget: RenderBudget): Promise<RenderedObject[]> {
  const out: RenderedObject[] = [];
  let sliceStart = performance.now();
  for (const doc of yamlStream(text, budget.sensitive ? { ...stream, sensitive: true } : stream, { maxExpandedBytes: budget.limits.maxRenderBytes, maxExpandedNodes: budget.limits.maxRenderNodes })) {
    budget.document(origin.linesRefer ? { file: origin.file, line: doc.line } : { file: origin.file }, doc.expandedBytes, doc.expandedNodes);
    const objects = objectsFromDocuments([doc], origin);
    budget.found(origin.file, objects.length);
    for (const object of objects) out.push(object);
    if (performance.now() - sliceStart > SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  return out;
}
