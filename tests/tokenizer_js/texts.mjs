// The comparison corpus: hand-written texts that mix scripts and edge
// cases, then paragraphs cut from the fixture corpora (by file, offset and
// length, so the golden file stays small). Shared by make_golden.mjs; the
// C test rebuilds the same list from texts.json.
import fs from "node:fs";
import path from "node:path";

export const inline = [
  "Hello world",
  "Hello, world! How are you doing today?",
  "你好，世界！今天天气很好。",
  "我爱北京天安门，天安门上太阳升。",
  "東京は日本の首都です。ひらがなとカタカナ、漢字。",
  "한국어 텍스트도 있습니다.",
  "Привет, мир! Ελληνικά κείμενα.",
  "مرحبا بالعالم",
  "def main():\n    print(\"hi\")\n\treturn 42\n",
  "for (int i = 0; i < n; i++) { x += a[i] * b[i]; }",
  "emoji: 😀🎉👍🏽 👨‍👩‍👧 🇨🇳",
  "    four leading spaces",
  "trailing spaces    ",
  "tabs\t\tand\nnewlines\n\n\nand\r\nCRLF",
  "                                        (forty spaces)",
  "digits 1234567890 3.14159 1,000,000 2024-11-28",
  "It's, they're, we've, I'm, you'll, he'd, CAN'T, DON'T",
  "café résumé naïve façade crème brûlée Ångström",
  "ＦＵＬＬ　ｗｉｄｔｈ　１２３",
  "ﬁ ligature ① ½ ™ Ⅻ",
  "<s> <|endoftext|> [CLS] </s> tokens as text",
  "a\u00a0no-break\u00a0space",
  "zero\u200bwidth\u200djoiner",
  "Mixed 中文 and English 混合 text 123 测试。",
  "",
  " ",
  "\n",
];

export const corpora = [
  "corpora/war-and-peace.txt",
  "corpora/botchan.txt",
  "corpora/wagahaiwa_nekodearu.txt",
  "corpora/llm-dev_medical_qa_zh.txt",
  "corpora/tinyshakespeare/input.txt",
];

// Up to `count` paragraphs of at most `max` bytes, spread over the file.
export function corpusPieces(fixtures, rel, count = 16, max = 400) {
  const file = path.join(fixtures, rel);
  if (!fs.existsSync(file)) return [];
  const buf = fs.readFileSync(file);
  const out = [];
  for (let k = 0; k < count; k++) {
    let start = Math.floor((buf.length * (k + 0.5)) / count);
    while (start < buf.length && (buf[start] & 0xc0) === 0x80) start++; // character boundary
    let end = Math.min(buf.length, start + max);
    while (end > start && end < buf.length && (buf[end] & 0xc0) === 0x80) end--;
    out.push({ file: rel, offset: start, length: end - start, text: buf.subarray(start, end).toString("utf8") });
  }
  return out;
}
