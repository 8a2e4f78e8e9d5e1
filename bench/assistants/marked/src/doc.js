// A deterministic Markdown document of about `bytes` bytes: headings,
// paragraphs with emphasis and links, lists, code blocks and tables.
export function document(bytes) {
  const parts = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    size += parts[parts.push(
      `## Section ${i}\n\nSome *emphasis*, **strong text**, \`code\` and a [link](https://example.com/${i}).\n` +
        `A second line with more words to parse, and an autolink <https://jan.ai/${i}>.\n\n` +
        `- item one\n- item two with _style_\n  - nested ${i}\n\n` +
        "```js\nconst x = " + i + ";\nconsole.log(x);\n```\n\n" +
        `| a | b |\n|---|---|\n| ${i} | ${i * 2} |\n\n> a quote ${i}\n\n`,
    ) - 1].length;
  }
  return parts.join("");
}
