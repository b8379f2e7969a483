// Authentication-Results (RFC 8601): the receiving server's verdict on SPF, DKIM and DMARC.
// Anyone can write the header into a message, so only the topmost one, written by a server
// the operator names as trusted (its authserv-id), is believed.

export type AuthVerdict =
  { verdict: 'pass' | 'fail'; by: string; detail: string } | { verdict: 'none'; reason: string };

function result(value: string, method: string): string | null {
  const m = new RegExp(`(?:^|[;\\s])${method}\\s*=\\s*([a-z]+)`, 'i').exec(value);
  return m?.[1]?.toLowerCase() ?? null;
}

/**
 * The verdict of the first Authentication-Results header, if it comes from a trusted server.
 * DMARC decides when present; else SPF or DKIM passing is a pass and either failing a fail.
 */
export function authVerdict(header: string | undefined, trusted: readonly string[]): AuthVerdict {
  if (!header) return { verdict: 'none', reason: 'no Authentication-Results header' };
  const id = (header.split(';')[0] ?? '').trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  if (!trusted.map((t) => t.toLowerCase()).includes(id)) {
    return {
      verdict: 'none',
      reason: `Authentication-Results from ${id || 'an unnamed server'}, which is not trusted`,
    };
  }
  const dmarc = result(header, 'dmarc');
  const spf = result(header, 'spf');
  const dkim = result(header, 'dkim');
  const detail = [dmarc && `dmarc=${dmarc}`, spf && `spf=${spf}`, dkim && `dkim=${dkim}`]
    .filter(Boolean)
    .join(' ');
  if (dmarc === 'pass') return { verdict: 'pass', by: id, detail };
  if (dmarc === 'fail') return { verdict: 'fail', by: id, detail };
  if (spf === 'pass' || dkim === 'pass') return { verdict: 'pass', by: id, detail };
  if (spf === 'fail' || spf === 'softfail' || dkim === 'fail')
    return { verdict: 'fail', by: id, detail };
  return { verdict: 'none', reason: `no SPF, DKIM or DMARC result from ${id}` };
}
