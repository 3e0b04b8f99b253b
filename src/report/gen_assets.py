#!/usr/bin/env python3
"""Regenerates html_assets.c from report.css and report.js (run after editing them)."""
import os
here = os.path.dirname(os.path.abspath(__file__))

def c_lit(text):
    out = []
    for line in text.splitlines(True):
        s = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("??", "?\\?")
        out.append('    "%s"' % s)
    return ",\n".join(out)

parts = ["/* report: stylesheet and script of the HTML report. Generated from report.css\n"
         " * and report.js by gen_assets.py in this directory; edit those and rerun. */\n"
         "#include \"html_assets.h\"\n"]
for name, fn in (("a4nn_report_css", "report.css"), ("a4nn_report_js", "report.js")):
    with open(os.path.join(here, fn)) as f:
        parts.append("\nconst char *const %s[] = {\n%s,\n    NULL};\n" % (name, c_lit(f.read())))
with open(os.path.join(here, "html_assets.c"), "w") as f:
    f.write("".join(parts))
