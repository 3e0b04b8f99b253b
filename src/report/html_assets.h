/* report: the HTML report's stylesheet and script, as NULL-terminated arrays
 * of text chunks (split so no single literal exceeds compiler limits). */
#ifndef A4NN_REPORT_HTML_ASSETS_H
#define A4NN_REPORT_HTML_ASSETS_H

#include <stddef.h>

extern const char *const a4nn_report_css[];
extern const char *const a4nn_report_js[];

#endif
