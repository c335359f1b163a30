// MathJax configuration for pymdownx.arithmatex (generic mode). The page loads MathJax
// itself only where a reader's browser can reach it; the text reads without it too.
window.MathJax = {
  tex: { inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]], processEscapes: true, processEnvironments: true },
  options: { ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex" },
};
