// File names for the materials export: what Windows refuses, made safe without losing the
// original name.
import { describe, expect, it } from 'vitest';
import { FolderNames, safeName, splitExtension, urlShortcut } from '../../src/export/names.js';

describe('safeName', () => {
  it.each([
    ['方案：初稿?.doc', '方案：初稿？.doc'],
    ['a/b\\c|d*e"f<g>h.pdf', 'a／b＼c｜d＊e＂f＜g＞h.pdf'],
    ['报告. . ', '报告'],
    ['CON', '_CON'],
    ['con.txt', '_con.txt'],
    ['LPT1.doc', '_LPT1.doc'],
    ['', '未命名'],
    ['tab\there\u0007.doc', 'tabhere.doc'],
    ['  多  空格 .docx', '多 空格 .docx'],
  ])('%j → %j', (input, want) => expect(safeName(input)).toBe(want));

  it('a long name keeps its extension and stays within the limit', () => {
    const s = safeName(`${'很长的文件名'.repeat(40)}.docx`, 50);
    expect(s.length).toBeLessThanOrEqual(50);
    expect(s.endsWith('….docx')).toBe(true);
  });

  it('splitExtension', () => {
    expect(splitExtension('a.b.docx')).toEqual(['a.b', '.docx']);
    expect(splitExtension('.hidden')).toEqual(['.hidden', '']);
    expect(splitExtension('无扩展名')).toEqual(['无扩展名', '']);
  });
});

describe('FolderNames', () => {
  it('a second file of the same name (any case) gets a number, the original name intact', () => {
    const f = new FolderNames();
    expect(f.claim('2015-05-20 报告.doc')).toBe('2015-05-20 报告.doc');
    expect(f.claim('2015-05-20 报告.doc')).toBe('2015-05-20 报告 (2).doc');
    expect(f.claim('2015-05-20 报告.DOC')).toBe('2015-05-20 报告 (3).DOC');
    expect(f.claim('photo.JPG')).toBe('photo.JPG');
    expect(f.claim('PHOTO.jpg')).toBe('PHOTO (2).jpg');
  });
});

describe('urlShortcut', () => {
  it('is a Windows Internet Shortcut; a line break in the URL cannot add keys', () => {
    expect(urlShortcut('https://x.example/a?b=1')).toBe(
      '[InternetShortcut]\r\nURL=https://x.example/a?b=1\r\n',
    );
    expect(urlShortcut('https://x.example/\r\nIconFile=evil')).toBe(
      '[InternetShortcut]\r\nURL=https://x.example/IconFile=evil\r\n',
    );
  });
});
