/* a4nn report: a self-contained HTML report of one or more run directories,
 * and a text summary on the terminal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "a4nn/report.h"
#include "app.h"

static void report_usage(FILE *out)
{
    fprintf(out,
            "usage: a4nn report DIR [DIR ...] [-o FILE.html] [-q]\n\n"
            "Reads each run directory's data commons (DIR/commons.h5) and writes one\n"
            "self-contained HTML file (no network, no JavaScript needed): Pareto front, learning\n"
            "curves with predictions and stop epochs, epochs and time saved, worker timeline,\n"
            "architecture similarity map and a model table; several runs share one Pareto plot\n"
            "and a table of their configuration differences.\n"
            "Prints a summary of every run on the terminal.\n\n"
            "  -o FILE   output file (default: DIR/report.html of the first DIR)\n"
            "  -q        no terminal summary\n");
}

int cmd_report(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        report_usage(stdout);
        return 0;
    }
    const char *outpath = NULL;
    int quiet = 0, n = 0;
    const char **dirs = a4nn_calloc((size_t)argc, sizeof *dirs);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
            if (i + 1 >= argc)
                a4nn_die("report: %s needs a file name", argv[i]);
            outpath = argv[++i];
        } else if (!strncmp(argv[i], "--output=", 9)) {
            outpath = argv[i] + 9;
        } else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if (argv[i][0] == '-') {
            a4nn_die("report: unknown option '%s' (see a4nn report --help)", argv[i]);
        } else {
            dirs[n++] = argv[i];
        }
    }
    if (n == 0) {
        report_usage(stderr);
        a4nn_die("report: no run directory given");
    }
    a4nn_report_run **runs = a4nn_calloc((size_t)n, sizeof *runs);
    a4nn_error err = {{0}};
    for (int i = 0; i < n; i++)
        if (a4nn_report_run_load(dirs[i], &runs[i], &err) != A4NN_OK)
            a4nn_die("report: %s", err.msg);
    char def[1100];
    if (!outpath) { /* beside the commons: in DIR, or beside DIR when it is the .h5 file */
        struct stat st;
        if (stat(dirs[0], &st) == 0 && !S_ISDIR(st.st_mode)) {
            const char *slash = strrchr(dirs[0], '/');
            snprintf(def, sizeof def, "%.*sreport.html", slash ? (int)(slash - dirs[0] + 1) : 0,
                     dirs[0]);
        } else {
            snprintf(def, sizeof def, "%s/report.html", dirs[0]);
        }
        outpath = def;
    }
    FILE *f = fopen(outpath, "w");
    if (!f)
        a4nn_die("report: cannot write %s: %s", outpath, strerror(errno));
    if (a4nn_report_write_html(f, runs, n, &err) != A4NN_OK)
        a4nn_die("report: %s: %s", outpath, err.msg);
    if (fclose(f) != 0)
        a4nn_die("report: cannot write %s: %s", outpath, strerror(errno));
    if (!quiet) {
        double mx = 0; /* one hypervolume reference for all runs, as in the HTML */
        for (int i = 0; i < n; i++)
            for (int k = 0; k < runs[i]->n_models; k++)
                if (runs[i]->models[k].mflops > mx)
                    mx = runs[i]->models[k].mflops;
        for (int i = 0; i < n; i++) {
            a4nn_report_summary s;
            a4nn_report_summarize(runs[i], mx > 0 ? 1.1 * mx : 1.0, &s);
            a4nn_report_summary_print(runs[i], &s, stdout);
        }
        printf("wrote %s\n", outpath);
    }
    for (int i = 0; i < n; i++)
        a4nn_report_run_free(runs[i]);
    free(runs);
    free(dirs);
    return 0;
}
