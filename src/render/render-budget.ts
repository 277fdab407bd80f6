/**
 * What one render may produce (src/input/limits.ts): bytes of output, YAML nodes once aliases
 * are expanded, and objects. A render counts as it reads and fails at the first excess, before
 * anything is applied, with an error that names the file, the limit, what was found and what to
 * do.
 */
import { formatBytes, formatCount, MAX_FILE_BYTES, MAX_OBJECTS, MAX_RENDER_BYTES, MAX_RENDER_NODES } from "../input/limits.ts";
import { RenderError } from "./errors.ts";

export interface RenderLimits {
  /** One manifest file. */
  maxFileBytes: number;
  /** The render's whole output: plain files summed, or a tool's standard output. */
  maxRenderBytes: number;
  /** YAML nodes of the whole output, aliases expanded. */
  maxRenderNodes: number;
  /** Kubernetes objects, Lists flattened. */
  maxObjects: number;
}

export const DEFAULT_RENDER_LIMITS: RenderLimits = {
  maxFileBytes: MAX_FILE_BYTES,
  maxRenderBytes: MAX_RENDER_BYTES,
  maxRenderNodes: MAX_RENDER_NODES,
  maxObjects: MAX_OBJECTS,
};

const SPLIT_FIX = "split the path into several Applications (or syncs), each rendering a part";

export class RenderBudget {
  private bytes = 0;
  private expandedBytes = 0;
  private nodes = 0;
  private objects = 0;

  constructor(
    readonly limits: RenderLimits = DEFAULT_RENDER_LIMITS,
    /** The render reads decrypted files: no error may quote what it reads. */
    readonly sensitive = false,
  ) {}

  /** A manifest file about to be read. */
  file(file: string, bytes: number): void {
    if (bytes > this.limits.maxFileBytes) {
      throw new RenderError("limit-exceeded", `file is ${formatBytes(bytes)}; fjord reads manifest files of at most ${formatBytes(this.limits.maxFileBytes)}`, {
        file,
        fix: "split it into several files (a Kubernetes object cannot be larger than 1.5 MiB anyway)",
      });
    }
  }

  /** Output about to be parsed: a file's text, or what a tool printed. */
  output(where: { file: string; what: string }, bytes: number): void {
    this.bytes += bytes;
    if (this.bytes > this.limits.maxRenderBytes) {
      throw new RenderError("limit-exceeded", `${where.what} is ${formatBytes(this.bytes)} of manifests; fjord renders at most ${formatBytes(this.limits.maxRenderBytes)} per Application`, {
        file: where.file,
        fix: SPLIT_FIX,
      });
    }
  }

  /** A parsed document, counted with its aliases expanded. */
  document(where: { file: string; line?: number }, expandedBytes: number, expandedNodes: number): void {
    this.expandedBytes += expandedBytes;
    this.nodes += expandedNodes;
    const location = { file: where.file, ...(where.line !== undefined ? { line: where.line } : {}), fix: `${SPLIT_FIX}, or remove aliases that repeat large blocks` };
    if (this.expandedBytes > this.limits.maxRenderBytes) {
      throw new RenderError("limit-exceeded", `the manifests grow beyond ${formatBytes(this.limits.maxRenderBytes)} once YAML aliases are expanded; fjord renders at most that per Application`, location);
    }
    if (this.nodes > this.limits.maxRenderNodes) {
      throw new RenderError("limit-exceeded", `the manifests hold more than ${formatCount(this.limits.maxRenderNodes)} YAML nodes (keys, values, list items); fjord renders at most that per Application`, location);
    }
  }

  /** Objects found in a file or a tool's output. */
  found(file: string, count: number): void {
    this.objects += count;
    if (this.objects > this.limits.maxObjects) {
      throw new RenderError("limit-exceeded", `the render holds more than ${formatCount(this.limits.maxObjects)} objects (fjord's limit per Application); this file brings it to ${formatCount(this.objects)}`, {
        file,
        fix: SPLIT_FIX,
      });
    }
  }
}
