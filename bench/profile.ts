// Where the backfill's time goes: a summary of the V8 CPU profiles that
// `npm run bench -- --only=backfill --profile` writes (one per thread of the intake process:
// the main thread first, then the parse threads). For each thread: how busy it was, the
// functions with the most time of their own, and the time spent under a few functions that
// name a stage of the work. Also runnable alone: `node dist/bench/bench/profile.js DIR`.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Stages of the work, found by the function that does them (time under it, children included). */
const STAGES: [string, RegExp][] = [
  ['writing part files', /^writeTemp$/],
  ['writing raw files', /^storeBytes$/],
  ['mailsplit line scan', /^iterateData$/],
  ['header decoding', /^processHeaders$/],
  ['html-to-text', /^convert$/],
  ['base64', /^decodeBase64$/],
  ['SQLite transactions', /^sqliteTransaction$/],
  ['imapflow', /^formatMessageResponse$|^getAttributes$/],
];

function frameName(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const file = url
    .replace(/.*node_modules\//, '')
    .split('/')
    .slice(-2)
    .join('/');
  return `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
}

export function summarize(profile: CpuProfile, label: string, top = 15): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    total += dt;
  });
  const own = new Map<string, number>();
  const stage = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') idle += us;
    const name = frameName(node);
    own.set(name, (own.get(name) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const fn = byId.get(cur)!.callFrame.functionName;
      for (const [label, re] of STAGES)
        if (re.test(fn) && !seen.has(label)) {
          seen.add(label);
          stage.set(label, (stage.get(label) ?? 0) + us);
        }
    }
  }
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(6)} ms`;
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const lines = [
    `${label}: ${ms(total).trim()} sampled, busy ${pct(total - idle).trim()}`,
    '  own time:',
    ...[...own]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => `  ${ms(us)} ${pct(us)}  ${name}`),
    '  stages (time under them):',
    ...[...stage]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => `  ${ms(us)} ${pct(us)}  ${name}`),
  ];
  return lines.join('\n');
}

/** Every profile in `dir`, the first started (the main thread) first. */
export function summarizeDir(dir: string, top = 15): string {
  const profiles = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as CpuProfile)
    .sort((a, b) => a.startTime - b.startTime);
  return profiles
    .map((p, i) => summarize(p, i === 0 ? 'main thread' : `parse thread ${i}`, top))
    .join('\n\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: profile.js DIR-WITH-CPUPROFILES [TOP]');
  process.stdout.write(summarizeDir(dir, Number(process.argv[3] ?? 15)) + '\n');
}
