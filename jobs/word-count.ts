/**
 * Word count: reads lines from a text file, splits them into lower-case words and keeps a
 * running count per word (keyed state). Writes one `{"word", "count"}` JSON object per line;
 * the last line for a word holds its total.
 *
 *   weir run jobs/word-count.ts [--param input=FILE] [--param out=DIR]
 */
import { fromFile, job, toFiles } from "weir";

export interface WordCount {
  readonly word: string;
  readonly count: number;
}

export default job("word-count", (env) => {
  env
    .source(fromFile(env.params.get("input", "data/lines.txt")), { name: "lines" })
    .flatMap((line) => line.toLowerCase().split(/[^\p{L}\p{N}']+/u), { name: "split-words" })
    .filter((word) => word.length > 0, { name: "non-empty" })
    .map((word): WordCount => ({ word, count: 1 }), { name: "one" })
    .keyBy((wc) => wc.word)
    .reduce((a, b) => ({ word: a.word, count: a.count + b.count }), { name: "count" })
    .sink(toFiles<WordCount>(env.params.get("out", "out/word-count")), { name: "counts" });
});
