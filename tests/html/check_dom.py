"""Checks the DOM Chromium built from an HTML report (check_pages.sh).

Usage: check_dom.py DOM_FILE EXPECT_FILE BROWSER_LOG
The DOM is parsed with the standard library's HTML parser; counts are taken per <svg
data-plot=...> element, so a figure whose markup the browser could not build fails here.
"""
import re
import sys
from html.parser import HTMLParser

SECTIONS = ["learning-curves", "rungs", "pbt", "parallel-coordinates", "scatter", "importance",
            "best-configurations", "final", "failures", "timeline"]
COMPARISON = ["cost-table", "best-so-far", "test-comparison"]


class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections = []
        self.svgs = []          # [kind, {tag.class: count}, [texts]]
        self.current = None
        self.depth = 0
        self.scripts = 0
        self.in_text = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "section" and "data-section" in a:
            self.sections.append(a["data-section"])
        if tag == "svg":
            self.current = [a.get("data-plot", ""), {}, [], a]
            self.svgs.append(self.current)
            self.depth = 0
        elif self.current is not None:
            key = tag + "." + (a.get("class") or "")
            self.current[1][key] = self.current[1].get(key, 0) + 1
            self.in_text = tag == "text"

    def handle_endtag(self, tag):
        if tag == "svg":
            self.current = None
        if tag == "text":
            self.in_text = False

    def handle_data(self, data):
        if self.current is not None and self.in_text:
            self.current[2].append(data)


def main():
    dom_file, expect_file, log_file = sys.argv[1:4]
    expect = dict(line.split("=", 1) for line in open(expect_file).read().split())
    expect = {k: int(v) for k, v in expect.items()}
    dom = Dom()
    dom.feed(open(dom_file, encoding="utf-8").read())
    errors = []

    log = open(log_file, encoding="utf-8", errors="replace").read()
    for line in log.splitlines():
        if re.search(r"CONSOLE|Uncaught|SyntaxError|Failed to load|ERR_", line):
            errors.append("browser log: " + line.strip())

    if dom.scripts:
        errors.append("the page has %d <script> elements; it must have none" % dom.scripts)
    for s in COMPARISON:
        if dom.sections.count(s) != 1:
            errors.append("comparison section %s appears %d times" % (s, dom.sections.count(s)))
    for s in SECTIONS:
        if dom.sections.count(s) != 1:
            errors.append("section %s appears %d times" % (s, dom.sections.count(s)))

    def svgs(kind):
        return [s for s in dom.svgs if s[0] == kind]

    def count(svg, prefix):
        return sum(n for k, n in svg[1].items() if k.startswith(prefix))

    for kind, label in [("learning-curves-step", "training step"),
                        ("learning-curves-device-minutes", "device-minutes")]:
        found = svgs(kind)
        if len(found) != 1:
            errors.append("%d %s figures" % (len(found), kind))
            continue
        curves = count(found[0], "polyline.curve ")
        if curves != expect["curves"]:
            errors.append("%s: %d curves for %d trials with values" % (kind, curves, expect["curves"]))
        texts = " ".join(found[0][2])
        if label not in texts or "eval loss" not in texts:
            errors.append("%s: axis labels missing (texts: %s)" % (kind, texts[:200]))
    scatter = svgs("scatter")
    if len(scatter) != expect["dimensions"]:
        errors.append("%d scatter plots for %d dimensions" % (len(scatter), expect["dimensions"]))
    pc = svgs("parallel-coordinates")
    if len(pc) != 1 or count(pc[0], "polyline.pc-line") == 0:
        errors.append("parallel coordinates missing or empty")
    if expect["transfers"] > 0:
        lineage = svgs("pbt-lineage")
        if len(lineage) != 1 or count(lineage[0], "line.transfer") != expect["transfers"]:
            errors.append("lineage: want %d transfer lines" % expect["transfers"])
    else:
        rungs = svgs("rungs")
        if len(rungs) != 1 or count(rungs[0], "rect.rung") == 0:
            errors.append("rung diagram missing or empty")
    timeline = svgs("timeline")
    if len(timeline) != 1 or count(timeline[0], "rect.bar") < expect["trials"]:
        errors.append("timeline: fewer bars than the %d trials" % expect["trials"])
    for s in dom.svgs:
        if s[0] not in ("rungs", "importance", "parallel-coordinates", "timeline") and not any(
                "axis-label" in k for k in s[1]):
            errors.append("figure %s has no axis label" % s[0])
    if errors:
        print("check_dom: %s:" % dom_file)
        for e in errors:
            print("  " + e)
        return 1
    print("check_dom: %s: %d sections, %d figures, %d curves per curve plot" %
          (dom_file, len(dom.sections), len(dom.svgs), expect["curves"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
