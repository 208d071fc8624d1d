/**
 * connectors/: split-based sources and two-phase-commit-shaped sinks.
 *
 * ```ts
 * env.source(fromFile("data/lines.txt")).map((l) => l.length).sink(toFiles("out/lengths"));
 * env.source(generator({ splits: 4, recordsPerSplit: 1000, generate: ({ index }) => index })).sink(print());
 * ```
 */
export type { Source, SplitReader, ReadResult, Dropped, SourceContext } from "./source.ts";
export type { Sink, SinkWriter, SinkContext } from "./sink.ts";
export { fromFile, type FileSourceOptions } from "./file-source.ts";
export { generator, type GeneratorOptions, type GeneratorContext } from "./generator-source.ts";
export { SeededRandom, type Random } from "./random.ts";
export { toFiles, type FileSinkOptions, type FileCommittable } from "./file-sink.ts";
export { print, type PrintOptions } from "./print-sink.ts";
export { discard } from "./discard-sink.ts";
