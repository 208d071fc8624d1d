/**
 * Replaces the generated part of README.md: everything between `<!-- bench:nexmark:begin -->`
 * and `<!-- bench:nexmark:end -->` (the markers stay). Fails, changing nothing, unless each
 * marker appears exactly once and in that order.
 */
export const BEGIN = "<!-- bench:nexmark:begin -->";
export const END = "<!-- bench:nexmark:end -->";

export const replaceSection = (readme: string, content: string): string => {
  const count = (marker: string) => readme.split(marker).length - 1;
  if (count(BEGIN) !== 1 || count(END) !== 1) throw new Error(`README must hold ${BEGIN} and ${END} exactly once each`);
  const start = readme.indexOf(BEGIN) + BEGIN.length;
  const end = readme.indexOf(END);
  if (end < start) throw new Error(`${END} comes before ${BEGIN} in the README`);
  return `${readme.slice(0, start)}\n${content.trim()}\n${readme.slice(end)}`;
};
