// A dozen submissions as units really send them (GUIDE §2): shared office addresses and a
// personal QQ mailbox, GBK subjects, codes in every style, a forwarded mail, a download link,
// an auto-reply and a thank-you. Used by `npm run demo` and by the integration tests.
import { composeMail, fakeDoc } from './compose.js';

export interface Sample {
  name: string;
  raw: Buffer;
  /** When the server received it (IMAP INTERNALDATE). */
  receivedAt: Date;
}

const at = (s: string) => new Date(`${s}+08:00`);

export function demoSamples(): Sample[] {
  const logo = fakeDoc('logo', 2_400);
  const forwardedFromTeam = composeMail({
    from: 'zhifa1dui@huiji.example',
    fromName: '执法一大队',
    to: 'cgzf@huiji.example',
    subject: '城管执法培训照片',
    date: at('2015-08-03T16:10:00'),
    text: '局办公室：\r\n培训照片两张，请汇总上报。',
    attachments: [
      { filename: '培训现场1.jpg', content: fakeDoc('photo1', 180_000), contentType: 'image/jpeg' },
      { filename: '培训现场2.jpg', content: fakeDoc('photo2', 160_000), contentType: 'image/jpeg' },
    ],
  });
  const list: [string, string, (date: Date) => Buffer][] = [
    [
      '01-dahelu-2.1',
      '2015-05-20T14:32:00',
      (date: Date) =>
        composeMail({
          date,
          from: 'dahelu@huiji.example',
          fromName: '大河路街道办',
          subject: '大河路街道 行政指导意见',
          text: '区法制办：\r\n附件为我办推行行政指导的意见，请查收。\r\n大河路街道办事处 王敏',
          attachments: [
            { filename: '大河路街道推行行政指导的意见.doc', content: fakeDoc('dahelu-2.1') },
          ],
        }),
    ],
    [
      '02-guxing-1-and-2.2',
      '2015-05-27T09:05:00',
      (date: Date) =>
        composeMail({
          date,
          from: 'gxzfb@huiji.example',
          fromName: '古荥镇政府办',
          subject: '报送材料',
          text: '您好，古荥镇两份材料见附件。',
          attachments: [
            {
              filename: '古荥镇2015年推进服务型行政执法建设年度方案.doc',
              content: fakeDoc('guxing-1'),
            },
            {
              filename: '古荥镇行政指导文书.pdf',
              content: fakeDoc('guxing-2.2'),
              contentType: 'application/pdf',
            },
          ],
        }),
    ],
    [
      '03-changxinglu-police-5',
      '2015-06-02T17:48:00',
      (date: Date) =>
        composeMail({
          date,
          from: 'ga-changxinglu@police.example',
          subject: '',
          charset: 'utf-8',
          text: '',
          attachments: [
            {
              filename: '长兴路分局调研报告.docx',
              content: fakeDoc('cxl-5'),
              nameStyle: 'rfc2231',
            },
          ],
        }),
    ],
    [
      '04-gongshang-2.3-and-6.3',
      '2015-05-29T11:20:00',
      (date: Date) =>
        composeMail({
          date,
          from: 'gongshang@huiji.example',
          fromName: '工商惠济分局法制科',
          subject: '二-3 典型案例',
          text: '典型案例及调解案例各一份。',
          attachments: [
            { filename: '行政指导案例汇编.doc', content: fakeDoc('gs-2.3') },
            { filename: '调解案例3则.doc', content: fakeDoc('gs-6.3') },
          ],
        }),
    ],
    [
      '05-cgzf-forwarded-4.1',
      '2015-08-04T08:40:00',
      (date: Date) =>
        composeMail({
          date,
          from: 'cgzf@huiji.example',
          fromName: '区城管执法局',
          subject: 'Fw: 四-1 城管执法培训',
          text: '转发执法一大队培训照片。',
          attachments: [{ filename: '城管执法规范培训通知.doc', content: fakeDoc('cgzf-4.1') }],
          forwarded: forwardedFromTeam,
        }),
    ],
    [
      '06-unknown-qq-sender',
      '2015-06-03T21:15:00',
      (date: Date) =>
        composeMail({
          date,
          from: '3021887465@qq.com',
          fromName: '张伟',
          subject: '迎宾路街道 学习会议纪要',
          text: '领导好，我是迎宾路街道的小张，用个人邮箱发一下会议纪要。',
          attachments: [
            { filename: '服务型行政执法学习会议纪要.doc', content: fakeDoc('ybl-3.1') },
          ],
        }),
    ],
    [
      '07-auto-reply',
      '2015-06-01T08:00:00',
      (date: Date) =>
        composeMail({
          date,
          from: 'xincheng@huiji.example',
          subject: '自动回复：报送材料',
          headers: { 'Auto-Submitted': 'auto-replied' },
          text: '您好，我已休假，6月8日返回。',
        }),
    ],
    [
      '08-thank-you',
      '2015-06-01T09:30:00',
      (date: Date) =>
        composeMail({
          date,
          from: 'liuzhai@huiji.example',
          subject: '回复：回执',
          text: '收到，谢谢！',
        }),
    ],
    [
      '09-renshe-video-link',
      '2015-06-04T15:02:00',
      (date: Date) =>
        composeMail({
          date,
          from: 'renshe@huiji.example',
          subject: '人社局 法律顾问参与重大决策审核视频',
          html:
            '<div>视频较大，已用超大附件发送：</div>' +
            '<div><a href="https://wx.mail.qq.com/ftn/download?func=3&amp;k=6c3d2a1f&amp;key=9e8b7a">法律顾问审核视频.mp4 (312MB)</a></div>' +
            '<div>提取码：7xk2</div>',
        }),
    ],
    [
      '10-jiaoyun-unclear',
      '2015-05-30T10:10:00',
      (date: Date) =>
        composeMail({
          date,
          from: 'jiaoyun@huiji.example',
          subject: '交运局报送',
          text: '见附件。',
          attachments: [
            {
              filename: 'scan0001.pdf',
              content: fakeDoc('jy-scan'),
              contentType: 'application/pdf',
            },
          ],
        }),
    ],
    [
      '11-laoyachen-raw-gbk-name',
      '2015-06-05T09:12:00',
      (date: Date) =>
        composeMail({
          date,
          from: 'laoyachen@huiji.example',
          subject: '五',
          text: '调研报告见附件',
          attachments: [
            {
              filename: '老鸦陈街道基层执法调研.docx',
              content: fakeDoc('lyc-5'),
              nameStyle: 'raw',
            },
          ],
        }),
    ],
    [
      '12-huayuankou-7.1-with-logo',
      '2015-05-31T23:40:00',
      (date: Date) =>
        composeMail({
          date,
          from: 'huayuankou@huiji.example',
          charset: 'utf-8',
          subject: '花园口镇 7.1 督导体系建立情况',
          html: '<p>附件为督导体系建立情况。</p><p><img src="cid:logo1"> 花园口镇人民政府</p>',
          attachments: [
            { filename: '花园口镇督导体系.docx', content: fakeDoc('hyk-7.1') },
            {
              filename: 'logo.png',
              content: logo,
              contentType: 'image/png',
              inline: true,
              cid: 'logo1',
            },
          ],
        }),
    ],
  ];
  const samples = list.map(([name, time, make]) => ({
    name,
    raw: make(at(time)),
    receivedAt: at(time),
  }));
  // The same mail exported twice: must be recorded once.
  const first = samples[0];
  if (first)
    samples.push({
      name: '13-dahelu-same-mail-again',
      raw: first.raw,
      receivedAt: first.receivedAt,
    });
  return samples;
}
