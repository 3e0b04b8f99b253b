/* report: the self-contained HTML report: inline CSS, static sections with
 * inline SVG plots (svg.c), the run data as embedded JSON and a small script
 * for sorting and hover highlights; no network access. */
#include "a4nn/report.h"

#include <string.h>
#include <time.h>

#include "html_assets.h"

static void chunks(FILE *o, const char *const *c)
{
    for (; *c; c++)
        fputs(*c, o);
}

int a4nn_report_write_html(FILE *o, a4nn_report_run *const *runs, int n_runs, a4nn_error *err)
{
    if (n_runs < 1)
        return a4nn_errorf(err, "report: no runs given");
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n<title>a4nn report: ",
          o);
    for (int r = 0; r < n_runs; r++) {
        if (r)
            fputs(" | ", o);
        a4nn_html_text(o, runs[r]->name);
    }
    fputs("</title>\n<style>\n", o);
    chunks(o, a4nn_report_css);
    fputs("</style>\n</head>\n<body>\n<header><h1>A4NN search report</h1><p>", o);
    char when[64] = "";
    time_t now = time(NULL);
    struct tm tmv;
    if (gmtime_r(&now, &tmv))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    fprintf(o, "a4nn %s &middot; generated %s &middot; ", A4NN_VERSION, when);
    for (int r = 0; r < n_runs; r++) {
        fputs(r ? ", " : "runs: ", o);
        a4nn_html_text(o, runs[r]->name);
        fprintf(o, " (%d model%s, seed %lld)", runs[r]->n_models, runs[r]->n_models == 1 ? "" : "s",
                runs[r]->seed);
    }
    fputs("</p></header>\n<main>\n<div id=\"a4nn-errors\"></div>\n", o);
    a4nn_report_write_sections(o, runs, n_runs);
    fputs("</main>\n<script type=\"application/json\" id=\"a4nn-data\">", o);
    int rc = a4nn_report_write_json(o, runs, n_runs, 0.0, err);
    if (rc != A4NN_OK)
        return rc;
    fputs("</script>\n<script>\n", o);
    chunks(o, a4nn_report_js);
    fputs("</script>\n</body>\n</html>\n", o);
    if (ferror(o))
        return a4nn_errorf(err, "writing the HTML report failed");
    return A4NN_OK;
}
