/* report: the self-contained HTML report (inline CSS, SVG drawn by inline
 * JavaScript from the embedded JSON document; no network access). */
#include "a4nn/report.h"

#include <string.h>
#include <time.h>

#include "html_assets.h"

static void html_text(FILE *o, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", o); break;
        case '>': fputs("&gt;", o); break;
        case '&': fputs("&amp;", o); break;
        case '"': fputs("&quot;", o); break;
        default: fputc(*s, o);
        }
    }
}

static void chunks(FILE *o, const char *const *c)
{
    for (; *c; c++)
        fputs(*c, o);
}

static const struct {
    const char *id, *title, *note;
} SECTIONS[] = {
    {"summary", "Summary", NULL},
    {"pareto", "Pareto front: accuracy against cost",
     "Fitness is the converged PENGUIN prediction (or the last measured validation accuracy when a "
     "model never converged). Front: no other model is both more accurate and cheaper."},
    {"savings", "Epochs and time saved against full training", NULL},
    {"curves", "Learning curves and predictions", NULL},
    {"timeline", "Worker timeline", "Which rank trained which model when."},
    {"similarity", "Architecture similarity map", NULL},
    {"models", "Models", NULL},
    {"every", "Every model's learning curve",
     "Validation accuracy (blue), training accuracy (grey, dashed), PENGUIN predictions of the "
     "final accuracy (orange; red once converged) and the stop (red dashed line)."},
};

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
        html_text(o, runs[r]->name);
    }
    fputs("</title>\n<style>\n", o);
    chunks(o, a4nn_report_css);
    fputs("</style>\n</head>\n<body>\n<header><h1>A4NN search report</h1><p>", o);
    char when[64] = "";
    time_t now = time(NULL);
    struct tm tmv;
    if (gmtime_r(&now, &tmv))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tmv);
    fprintf(o, "a4nn %s &middot; generated %s &middot; ", A4NN_VERSION, when);
    for (int r = 0; r < n_runs; r++) {
        fputs(r ? ", " : "runs: ", o);
        html_text(o, runs[r]->name);
        fprintf(o, " (%d models, seed %lld)", runs[r]->n_models, runs[r]->seed);
    }
    fputs("</p></header>\n<main>\n<div id=\"a4nn-errors\"></div>\n"
          "<noscript><p>This report draws its plots with JavaScript; the data is embedded below "
          "as JSON (id a4nn-data).</p></noscript>\n",
          o);
    for (size_t i = 0; i < A4NN_ARRAY_LEN(SECTIONS); i++) {
        fprintf(o, "<section id=\"%s\"><h2>%s</h2>", SECTIONS[i].id, SECTIONS[i].title);
        if (SECTIONS[i].note)
            fprintf(o, "<p class=\"note\">%s</p>", SECTIONS[i].note);
        fputs("</section>\n", o);
    }
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
