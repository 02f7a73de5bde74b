/** Reading Prometheus text exposition in tests: scrape a listener, pick samples by labels. */

export interface Scrape {
  text: string;
  /** The sum of the samples named `name` whose labels include `labels` (undefined: none). */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

export async function scrape(metricsUrl: string): Promise<Scrape> {
  const response = await fetch(`${metricsUrl}/metrics`);
  if (response.status !== 200) throw new Error(`scrape answered ${response.status}`);
  const text = await response.text();
  const samples = text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map(parseSample);
  return {
    text,
    value(name, labels = {}) {
      const matching = samples.filter(
        (sample) =>
          sample.name === name &&
          Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
      );
      if (matching.length === 0) return undefined;
      return matching.reduce((sum, sample) => sum + sample.value, 0);
    },
  };
}

function parseSample(line: string): {
  name: string;
  labels: Record<string, string>;
  value: number;
} {
  const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
  if (!match) throw new Error(`not a sample: ${line}`);
  const labels: Record<string, string> = {};
  for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
    labels[pair[1] ?? ''] = (pair[2] ?? '').replace(/\\(.)/g, '$1');
  }
  return { name: match[1] ?? '', labels, value: Number(match[3]) };
}
