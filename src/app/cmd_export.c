/* a4nn export: everything in a run's data commons as CSV or JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a4nn/report.h"
#include "app.h"

static void export_usage(FILE *out)
{
    fprintf(out, "usage: a4nn export DIR --format csv|json [-o FILE]\n\n"
                 "Writes the run's data commons (DIR/commons.h5) for other tools.\n"
                 "  csv   one row per (model, epoch): the model's attributes, that epoch's\n"
                 "        accuracies, loss and seconds, its prediction (empty when none) and\n"
                 "        its nearest earlier architectures (id:similarity:hamming:\n"
                 "        graph_edit:fitness;...)\n"
                 "  json  the run's attributes, summary and every model with its epoch and\n"
                 "        prediction tables, Pareto flag and similarity-map coordinates\n"
                 "  -o FILE   output file (default: standard output)\n");
}

int cmd_export(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        export_usage(stdout);
        return 0;
    }
    const char *dir = NULL, *format = NULL, *outpath = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--format") || !strcmp(argv[i], "-f")) {
            if (i + 1 >= argc)
                a4nn_die("export: %s needs csv or json", argv[i]);
            format = argv[++i];
        } else if (!strncmp(argv[i], "--format=", 9)) {
            format = argv[i] + 9;
        } else if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
            if (i + 1 >= argc)
                a4nn_die("export: %s needs a file name", argv[i]);
            outpath = argv[++i];
        } else if (argv[i][0] == '-') {
            a4nn_die("export: unknown option '%s' (see a4nn export --help)", argv[i]);
        } else if (dir) {
            a4nn_die("export: one run directory at a time ('%s' and '%s' given)", dir, argv[i]);
        } else {
            dir = argv[i];
        }
    }
    if (!dir) {
        export_usage(stderr);
        a4nn_die("export: no run directory given");
    }
    if (!format)
        a4nn_die("export: --format csv|json is required");
    int csv = !strcmp(format, "csv");
    if (!csv && strcmp(format, "json"))
        a4nn_die("export: unknown format '%s' (csv or json)", format);
    a4nn_error err = {{0}};
    a4nn_report_run *run = NULL;
    if (a4nn_report_run_load(dir, &run, &err) != A4NN_OK)
        a4nn_die("export: %s", err.msg);
    FILE *f = outpath ? fopen(outpath, "w") : stdout;
    if (!f)
        a4nn_die("export: cannot write %s: %s", outpath, strerror(errno));
    int rc = csv ? a4nn_report_write_csv(f, run, &err) : a4nn_report_write_json(f, &run, 1, 0.0, &err);
    if (rc != A4NN_OK)
        a4nn_die("export: %s", err.msg);
    if (fflush(f) != 0 || (outpath && fclose(f) != 0))
        a4nn_die("export: cannot write %s: %s", outpath ? outpath : "standard output", strerror(errno));
    a4nn_report_run_free(run);
    return 0;
}
