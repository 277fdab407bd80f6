import { LineCounter } from "yaml";
import { FileTooLargeError, readBoundedText } from "../input/read-file.ts";
import { parseYamlDocuments, YamlLimitError } from "../input/yaml.ts";
import { filesReadByRender } from "./decryption-files.ts";
import { RenderError } from "./errors.ts";
import { relativeToRoot, type RenderDirectory } from "./paths.ts";
import type { RenderBudget } from "./render-budget.ts";

/**
 * kustomize reads YAML into go-yaml v3 nodes and expands every alias, without the limit go-yaml
 * applies when decoding: a 1 KiB resource of nested aliases held kustomize for two minutes and
 * 16 GB (in the controller's container, whose memory limit it shares). So every file a
 * kustomization names is first read with fjord's bounded reader, which refuses such a file in
 * linear time. Files without both an anchor (`&`) and an alias (`*`) cannot expand and are not
 * parsed; syntax errors are left for kustomize to report.
 */
export async function assertKustomizeInputsBounded(dir: RenderDirectory, budget: RenderBudget): Promise<void> {
  for (const file of await filesReadByRender(dir, [])) {
    const shown = relativeToRoot(dir.rootReal, file);
    let text: string;
    try {
      text = await readBoundedText(file, budget.limits.maxFileBytes);
    } catch (error) {
      if (error instanceof FileTooLargeError) budget.file(shown, error.size);
      throw error;
    }
    if (!text.includes("&") || !text.includes("*")) continue;
    const lines = new LineCounter();
    try {
      const limits = { maxExpandedBytes: budget.limits.maxRenderBytes, maxExpandedNodes: budget.limits.maxRenderNodes };
      for (const { document } of parseYamlDocuments(text, { lineCounter: lines, uniqueKeys: false, limits })) if (document.errors.length > 0) break;
    } catch (error) {
      if (!(error instanceof YamlLimitError)) throw error;
      const { line, col } = lines.linePos(error.offset);
      throw new RenderError("limit-exceeded", `${error.message}; kustomize would expand it without any limit`, { file: shown, line, column: col, fix: "write the repeated blocks out instead of aliasing them" });
    }
  }
}
