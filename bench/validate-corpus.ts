/**
 * Generates a realistic, varied chat fine-tuning dataset for the validation benchmarks: multi-turn conversations in
 * several languages and scripts, code answers, tool calls with JSON arguments, a few `weight: 0` turns. Words come from
 * per-language lists mixed with invented words, numbers and identifiers, so the tokenizer sees new text throughout
 * (no single repeated string for a cache to absorb). Deterministic for a given seed.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
// Seeded, so runs are comparable: the emulator's small PRNG.
import { mulberry32 } from '../src/emulator/faults';

const WORDS: Record<string, string[]> = {
  en: 'the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not what all were we when your can said there use an each which she do how their if will up other about out many then them these so some her would make like him into time has look two more write go see number no way could people my than first water been call who oil its now find long down day did get come made may part over new sound take only little work know place year live me back give most very after thing our just name good sentence man think say great where help through much before line right too mean old any same tell boy follow came want show also around form three small set put end does another well large must big even such because turn here why ask went men read need land different home us move try kind hand picture again change off play spell air away animal house point page letter mother answer found study still learn should America world'.split(' '),
  de: 'der die und in den von zu das mit sich des auf für ist im dem nicht ein Die eine als auch es an werden aus er hat daß sie nach wird bei einer Der um am sind noch wie einem über einen Das so Sie zum war haben nur oder aber vor zur bis mehr durch man sein wurde sei In Prozent hatte kann gegen vom können schon wenn habe seine Mark ihre dann unter wir soll ich eines Es Jahr zwei Jahren diese dieser wieder keine Uhr seiner worden Und will zwischen Im immer Millionen Ein was sagte Straße Brücke Größe schön'.split(' '),
  fr: 'le de un être et à il avoir ne je son que se qui ce dans en du elle au pour pas que vous par sur faire plus dire me on mon lui nous comme mais pouvoir avec tout y aller voir en bien où sans tu ou leur homme si deux mari moi vouloir te femme venir quand grand celui notre devoir là jour prendre même votre rien petit encore aussi quelque dont tout mer trouver donner temps ça peu même falloir sous parler alors après connaître toujours jamais très déjà été français'.split(' '),
  es: 'de la que el en y a los se del las un por con no una su para es al lo como más o pero sus le ha me si sin sobre este ya entre cuando todo esta ser son dos también fue había era muy años hasta desde está mi porque qué sólo han yo hay vez puede todos así nos ni parte tiene él uno donde bien tiempo mismo ese ahora cada e vida otro después te otros aunque esa eso hace otra gobierno tan durante siempre día tanto ella tres sí dijo sido gran país según menos año antes estado niño señor'.split(' '),
  ru: 'и в не на я быть он с что а по это она этот к но они мы как из у который то за свой что весь год от так о для ты же все тот мочь вы человек такой его сказать только или еще бы себя один как уже до время если сам когда другой вот говорить наш мой знать стать при чтобы дело жизнь кто первый очень два день её новый рука даже во со раз где там под можно ну какой после их работа без самый потом надо хотеть ли слово идти большой должен место иметь ничто'.split(' '),
  zh: '的 一 是 不 了 在 人 有 我 他 这 个 们 中 来 上 大 为 和 国 地 到 以 说 时 要 就 出 会 可 也 你 对 生 能 而 子 那 得 于 着 下 自 之 年 过 发 后 作 里 用 道 行 所 然 家 种 事 成 方 多 经 么 去 法 学 如 都 同 现 当 没 动 面 起 看 定 天 分 还 进 好 小 部 其 些 主 样 理 心 她 本 前 开 但 因 只 从 想 实 日 军 者 意 无 力 它 与 长 把 机 十 民 第 公 此 已 工 使 情 明 性 知 全 三 又 关 点 正 业 外 将 两 高 间 由 问 很 最 重 并 物 手 应 战 向 头 文 体 政 美 相 见 被 利 什 二 等 产 或 新 己 制 身 果 加 西 斯 月 话 合 回 特 代 内 信 表 化 老 给 世 位 次 度 门 任 常 先 海 通 教 儿 原 东 声 提 立 及 比 员 解 水 名 真 论 处 走 义 各 入 几 口 认 条 平 系 气 题 活 尔 更 别 打 女 变 四 神 总 何 电 数 安 少 报 才 结 反 受 目 太 我们 他们 今天 明天 时间 工作 问题 学习 中国 世界 数据 系统 服务 公司 城市 政府 市场 经济 发展 技术'.split(' '),
  ja: 'の に は を た が で て と し れ さ ある いる も する から な こと として い や れる など なっ ない この ため その あっ よう また もの という あり まで られ なる へ か だ これ によって により おり より による ず なり られる において ば なかっ なく しかし について せ だっ その後 できる それ う ので なお のみ でき き つ における および いう さらに でも ら たり その他 に関する たち ます ん なら に対して 特に せる 及び これら とき では にて ほか ながら うち そして とともに ただし かつて それぞれ または お ほど ものの に対する ほとんど と共に といった です とも ところ ここ 日本 東京 会社 今日 明日 天気 電車 学校 先生 友達 仕事 問題 説明 確認 変更 設定 データ 処理'.split(' '),
  ar: 'في من على إلى أن عن مع هذا هذه التي الذي كان ما لا أو بعد كل قد بين عند ذلك إن كانت لم حتى غير تم أي أكثر منذ ولا هو هي وقد فيها بها له لها اليوم العالم الحكومة الشركة البيانات المدينة الناس العمل الوقت الطريق الكتاب المدرسة السوق النظام الخدمة'.split(' '),
  hi: 'के है में की और से को का एक पर यह भी है था कि जो कर ने हैं लिए तो इस ही या हो थे किया कुछ दिया रहा अपने उन्होंने साथ बाद वह सकते जब तक नहीं आज भारत सरकार लोग काम समय दिन शहर पानी सवाल जवाब'.split(' '),
};
const LANGUAGES = Object.keys(WORDS);
const NO_SPACE_LANGUAGES = new Set(['zh', 'ja']);
const SYLLABLES = 'ka ro mi tu ne sa lo vi pe da zu ri fo ba ki mo la te nu go shi ar en el qu ix yo wa'.split(' ');
const TOOLS = [
  { name: 'get_weather', params: { city: 'string', unit: 'string' } },
  { name: 'search_orders', params: { customer_id: 'string', status: 'string', limit: 'integer' } },
  { name: 'create_ticket', params: { title: 'string', priority: 'string', assignee: 'string' } },
  { name: 'convert_currency', params: { amount: 'number', from: 'string', to: 'string' } },
];


class CorpusWriter {
  private readonly random: () => number;
  private readonly systemPrompts: string[];
  private tool = 0;

  constructor(seed: number) {
    this.random = mulberry32(seed);
    this.systemPrompts = Array.from({ length: 40 }, () => this.paragraph('en', 2 + this.int(4)));
  }

  private int(n: number): number {
    return Math.floor(this.random() * n);
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  private inventedWord(): string {
    let word = '';
    for (let i = 1 + this.int(3); i >= 0; i--) word += this.pick(SYLLABLES);
    return word;
  }

  private sentence(language: string): string {
    const words = WORDS[language]!;
    const parts: string[] = [];
    for (let n = 5 + this.int(18); n > 0; n--) {
      const roll = this.random();
      if (roll < 0.06) parts.push(this.inventedWord());
      else if (roll < 0.09) parts.push(String(this.int(100_000)));
      else parts.push(this.pick(words));
    }
    const joined = parts.join(NO_SPACE_LANGUAGES.has(language) ? '' : ' ');
    const end = NO_SPACE_LANGUAGES.has(language) ? '。' : this.pick(['.', '.', '?', '!']);
    return joined.charAt(0).toUpperCase() + joined.slice(1) + end;
  }

  private paragraph(language: string, sentences: number): string {
    return Array.from({ length: sentences }, () => this.sentence(language)).join(' ');
  }

  private identifier(): string {
    const word = this.inventedWord();
    return word + this.inventedWord().replace(/^./, (c) => c.toUpperCase());
  }

  private code(): string {
    const fn = this.identifier();
    const arg = this.identifier();
    const lines = [`\`\`\`${this.pick(['ts', 'python', 'sql'])}`];
    for (let i = 2 + this.int(10); i > 0; i--) {
      lines.push(this.pick([
        `export function ${fn}(${arg}: number[]): number {`,
        `  const ${this.identifier()} = ${arg}.filter((x) => x > ${this.int(1000)}).map((x) => x * ${this.int(9) + 1});`,
        `def ${fn}(${arg}, limit=${this.int(50)}):\n    return [row for row in ${arg} if row.${this.identifier()} is not None][:limit]`,
        `SELECT ${this.identifier()}, COUNT(*) FROM ${this.identifier()} WHERE created_at > '2024-0${1 + this.int(9)}-1${this.int(9)}' GROUP BY 1;`,
        `  if (${arg}.length === 0) throw new Error('${this.identifier()} is empty');`,
        `  return ${arg}.reduce((sum, value) => sum + value, ${this.int(10)});\n}`,
      ]));
    }
    lines.push('```');
    return lines.join('\n');
  }

  private toolExample(): object {
    const tool = TOOLS[this.tool++ % TOOLS.length]!;
    const callId = `call_${this.identifier()}${this.int(1e9)}`;
    const args = Object.fromEntries(Object.entries(tool.params).map(([k, type]) => [k, type === 'string' ? this.inventedWord() : this.int(500)]));
    return {
      messages: [
        { role: 'system', content: this.pick(this.systemPrompts) },
        { role: 'user', content: this.paragraph(this.pick(LANGUAGES), 1 + this.int(2)) },
        { role: 'assistant', tool_calls: [{ id: callId, type: 'function', function: { name: tool.name, arguments: JSON.stringify(args) } }] },
        { role: 'tool', tool_call_id: callId, content: JSON.stringify({ ok: true, result: this.sentence('en'), value: this.int(10_000) }) },
        { role: 'assistant', content: this.paragraph('en', 1 + this.int(3)) },
      ],
      tools: TOOLS.map((t) => ({
        type: 'function',
        function: {
          name: t.name, description: `Calls ${t.name.replace(/_/g, ' ')}.`,
          parameters: { type: 'object', properties: Object.fromEntries(Object.entries(t.params).map(([k, type]) => [k, { type }])), required: Object.keys(t.params) },
        },
      })),
    };
  }

  private chatExample(): object {
    const language = this.pick(LANGUAGES);
    const messages: object[] = [{ role: 'system', content: this.pick(this.systemPrompts) }];
    for (let turns = 1 + this.int(3); turns > 0; turns--) {
      messages.push({ role: 'user', content: this.paragraph(language, 1 + this.int(4)) });
      const answer = this.random() < 0.25 ? `${this.sentence(language)}\n\n${this.code()}` : this.paragraph(language, 2 + this.int(8));
      messages.push(turns > 1 && this.random() < 0.3 ? { role: 'assistant', content: answer, weight: 0 } : { role: 'assistant', content: answer });
    }
    return { messages };
  }

  line(): string {
    return JSON.stringify(this.random() < 0.12 ? this.toolExample() : this.chatExample());
  }
}

/** Writes JSONL (with a UTF-8 BOM, as Azure wants) to `path`, as many lines as fit in `sizeBytes`. */
export async function writeChatCorpus(path: string, sizeBytes: number, seed = 42): Promise<void> {
  const writer = new CorpusWriter(seed);
  const out = createWriteStream(path);
  let chunk = '\uFEFF';
  let written = 3;
  for (;;) {
    const line = writer.line() + '\n';
    const lineBytes = Buffer.byteLength(line);
    if (written + lineBytes > sizeBytes) break;
    chunk += line;
    written += lineBytes;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}
