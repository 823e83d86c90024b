import fs from 'node:fs';

/**
 * Puts one run's block into its marked section of bench/RESULTS.md: the section (between `begin`
 * and `end`) is created under `heading` when missing, and a block with the same `runBegin`
 * marker is replaced, so re-running a benchmark updates its own lines and nothing else.
 */
export function writeRunBlock(out: string, markers: { heading: string; begin: string; end: string; runBegin: string; runEnd: string }, block: string): void {
  const { heading, begin, end, runBegin, runEnd } = markers;
  let text = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '# Benchmark results\n';
  if (!text.includes(begin)) text = `${text.trimEnd()}\n\n## ${heading}\n\n${begin}\n${end}\n`;
  const [head, rest] = text.split(begin) as [string, string];
  const [section, tail] = rest.split(end) as [string, string];
  let body = section;
  const at = body.indexOf(runBegin);
  if (at >= 0) {
    const stop = body.indexOf(runEnd, at) + runEnd.length;
    body = `${body.slice(0, at)}${block}${body.slice(stop)}`;
  } else body = `${body.trimEnd()}\n${block}\n`;
  fs.writeFileSync(out, `${head}${begin}${body.startsWith('\n') ? '' : '\n'}${body.trimEnd()}\n${end}${tail}`);
}
