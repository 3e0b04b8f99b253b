/* report: pieces of the HTML report shared inside the module: the stylesheet
 * and script as NULL-terminated arrays of text chunks (split so no single
 * literal exceeds compiler limits), and the static sections (svg.c). */
#ifndef A4NN_REPORT_HTML_ASSETS_H
#define A4NN_REPORT_HTML_ASSETS_H

#include <stddef.h>
#include <stdio.h>

#include "a4nn/report.h"

extern const char *const a4nn_report_css[];
extern const char *const a4nn_report_js[];

/* Text with <, >, & and " escaped for HTML. */
void a4nn_html_text(FILE *o, const char *s);

/* The shortest text that reads back as the same double (missing for NaN and
 * infinities). */
void a4nn_report_shortest(FILE *o, double v, const char *missing);

/* Every section of the report as static HTML with inline SVG plots. */
void a4nn_report_write_sections(FILE *o, a4nn_report_run *const *runs, int n_runs);

#endif
