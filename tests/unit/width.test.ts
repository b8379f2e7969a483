import { describe, expect, it } from 'vitest';
import { displayWidth } from '../../src/core/width.js';

describe('displayWidth', () => {
  it.each([
    ['', 0],
    ['abc', 3],
    ['大河路', 6],
    ['7.2 宣传视频', 12],
    ['ＡＢ', 4], // full-width Latin
    ['한글', 4], // Hangul syllables
    ['\u1100', 2], // Hangul Jamo
    ['𠀀', 2], // CJK Extension B, outside the BMP
    ['é', 1],
  ])('%j takes %i columns', (s, w) => {
    expect(displayWidth(s)).toBe(w);
  });
});
