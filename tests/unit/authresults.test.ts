import { describe, expect, it } from 'vitest';
import { authVerdict } from '../../src/core/authresults.js';

const T = ['mx.sina.net'];

describe('authVerdict', () => {
  it.each([
    ['mx.sina.net; dmarc=pass header.from=huiji.example; spf=pass', 'pass'],
    ['mx.sina.net; dmarc=fail (p=none) header.from=huiji.example; spf=pass', 'fail'],
    ['mx.sina.net; spf=fail smtp.mailfrom=huiji.example; dkim=none', 'fail'],
    ['mx.sina.net; spf=softfail smtp.mailfrom=huiji.example', 'fail'],
    ['mx.sina.net; dkim=pass header.d=huiji.example; spf=fail', 'pass'],
    ['mx.sina.net 1; spf=pass smtp.mailfrom=huiji.example', 'pass'],
    ['MX.SINA.NET; dmarc=pass', 'pass'],
    ['mx.sina.net; none', 'none'],
    // Written by the sender or a server we do not trust: ignored, whatever it claims.
    ['evil.example; dmarc=pass; spf=pass; dkim=pass', 'none'],
    ['mx.sina.net.evil.example; dmarc=fail', 'none'],
    ['', 'none'],
  ])('%s → %s', (header, verdict) => {
    expect(authVerdict(header || undefined, T).verdict).toBe(verdict);
  });

  it('trusts nothing when no server is configured', () => {
    expect(authVerdict('mx.sina.net; dmarc=fail', []).verdict).toBe('none');
  });
});
