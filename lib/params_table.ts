/**
 * The README's parameter table, generated from the documented parameters.
 *
 * @module
 */

import type { ParamDoc } from "./kit/params.ts";

/** Render parameters as the Markdown table the README carries. */
export function paramsTable(params: readonly ParamDoc[]): string {
  const cell = (text: string) => text.replaceAll("|", "\\|");
  const rows = params.map((param) => {
    const fallback = param.default === undefined
      ? ""
      : param.default.startsWith("`")
      ? param.default
      : `\`${param.default}\``;
    const flag = param.flag ? ` Flag: \`--${param.flag}\`.` : "";
    return `| \`${param.name}\` | ${cell(fallback)} | ${cell(param.meaning)}${flag} |`;
  });
  return ["| Name | Default | Meaning |", "| --- | --- | --- |", ...rows].join("\n");
}
