/* a4nn export: everything in a run's data commons as CSV or JSON, or one
 * trained model for PyTorch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "a4nn/commons.h"
#include "a4nn/data.h"
#include "a4nn/nn.h"
#include "a4nn/report.h"
#include "app.h"
#include "model.h"

static void export_usage(FILE *out)
{
    fprintf(out, "usage: a4nn export DIR --format csv|json [-o FILE]\n"
                 "       a4nn export DIR --model ID --format pytorch [-o OUTDIR]\n\n"
                 "Writes the run's data commons (DIR/commons.h5) for other tools.\n"
                 "  csv   one row per (model, epoch): the model's attributes, that epoch's\n"
                 "        accuracies, loss and seconds, its prediction (empty when none) and\n"
                 "        its nearest earlier architectures (id:similarity:hamming:\n"
                 "        graph_edit:fitness;...)\n"
                 "  json  the run's attributes, summary and every model with its epoch and\n"
                 "        prediction tables, Pareto flag and similarity-map coordinates\n"
                 "  pytorch   model ID's trained weights (from DIR/checkpoints) as OUTDIR/\n"
                 "        model-<ID>.h5 and a self-contained Python module OUTDIR/a4nn_model.py\n"
                 "        that rebuilds the network in PyTorch and loads them (default OUTDIR:\n"
                 "        DIR/pytorch); a4nn predict runs the same file\n"
                 "  -o FILE   output file (default: standard output)\n");
}

/* The trained weights of one model of a run, from its checkpoint. */
static int export_pytorch(const char *dir, int id, const char *outdir)
{
    a4nn_error err = {{0}};
    a4nn_report_run *run = NULL;
    if (a4nn_report_run_load(dir, &run, &err) != A4NN_OK)
        a4nn_die("export: %s", err.msg);
    const a4nn_report_model *rec = NULL;
    for (int i = 0; i < run->n_models; i++)
        if (run->models[i].id == id)
            rec = &run->models[i];
    if (!rec)
        a4nn_die("export: %s has no finished model %d (%d model%s finished)", dir, id,
                 run->n_models, run->n_models == 1 ? "" : "s");
    a4nn_config cfg;
    if (a4nn_commons_config(run->config, &cfg, NULL, &err) != A4NN_OK)
        a4nn_die("export: %s: %s", dir, err.msg);
    if (cfg.backend == A4NN_WORKER_REPLAY)
        a4nn_die("export: %s replayed recorded learning curves (worker.backend = replay): it "
                 "trained no weights to export",
                 dir);
    char ckpt[1200];
    a4nn_checkpoint_path(dir, id, ckpt, sizeof ckpt);
    a4nn_checkpoint_info info;
    a4nn_epoch_row *rows = NULL;
    float *state = NULL;
    size_t n_state = 0;
    int found = 0, n_rows = 0;
    if (a4nn_checkpoint_read(ckpt, &found, &info, &rows, &n_rows, &state, &n_state, &err) != A4NN_OK)
        a4nn_die("export: %s", err.msg);
    if (!found)
        a4nn_die("export: model %d has no saved weights (%s); runs keep them with "
                 "worker.checkpoint_every = 1, or retrain it with a4nn train --genome '%s' "
                 "--save FILE.h5",
                 id, ckpt, rec->genome_text);
    app_model m = {0};
    snprintf(m.genome, sizeof m.genome, "%s", info.genome);
    m.n_phases = cfg.n_phases, m.n_nodes = cfg.n_nodes, m.init_channels = cfg.init_channels;
    m.n_classes = 2, m.model_id = id, m.epochs = info.next_epoch;
    if (cfg.synthetic) {
        m.in_c = 1, m.in_h = m.in_w = cfg.synthetic_size;
    } else {
        a4nn_dataset_info di;
        if (a4nn_dataset_info_read(cfg.file, &di, &err) != A4NN_OK)
            a4nn_die("export: the run's data.file is needed for the input size: %s", err.msg);
        m.in_c = di.c, m.in_h = di.h, m.in_w = di.w;
    }
    a4nn_backend *be = a4nn_backend_create("cpu", 1, 0, &err);
    a4nn_arch *arch = a4nn_malloc(sizeof *arch);
    m.n_params = 0; /* app_model_net checks the sizes against m's weights: none yet */
    a4nn_genome g;
    if (!be || a4nn_genome_parse(m.genome, m.n_phases, m.n_nodes, &g, &err) != A4NN_OK ||
        a4nn_arch_build(&g, m.in_c, m.in_h, m.in_w, m.init_channels, m.n_classes, arch, &err) !=
            A4NN_OK)
        a4nn_die("export: model %d: %s", id, err.msg);
    a4nn_net *net = a4nn_net_alloc(arch, 1, be, 1, &err);
    a4nn_train_config tc;
    a4nn_train_config_defaults(&tc);
    tc.epochs = run->budget > 0 ? run->budget : cfg.epochs;
    tc.batch = 1;
    a4nn_trainer *tr = net ? a4nn_trainer_alloc(net, &tc, &err) : NULL;
    int next = 0;
    if (!tr || a4nn_trainer_state_load(tr, state, n_state, &next, &err) != A4NN_OK)
        a4nn_die("export: model %d: the checkpoint does not fit its genome: %s", id, err.msg);
    app_model_take_weights(&m, net);

    char outbuf[1200], path[1300];
    if (!outdir) {
        snprintf(outbuf, sizeof outbuf, "%s/pytorch", dir);
        outdir = outbuf;
    }
    if (mkdir(outdir, 0777) != 0 && errno != EEXIST)
        a4nn_die("export: cannot create %s: %s", outdir, strerror(errno));
    snprintf(path, sizeof path, "%s/model-%06d.h5", outdir, id);
    if (app_model_write(path, &m, &err) != A4NN_OK)
        a4nn_die("export: %s", err.msg);
    printf("wrote %s (model %d, %s, weights after %d of its %d epoch%s)\n", path, id, m.genome,
           m.epochs, rec->epochs_trained, rec->epochs_trained == 1 ? "" : "s");
    snprintf(path, sizeof path, "%s/a4nn_model.py", outdir);
    FILE *py = fopen(path, "w");
    if (!py)
        a4nn_die("export: cannot write %s: %s", path, strerror(errno));
    for (const char *const *c = app_pytorch_module; *c; c++)
        fputs(*c, py);
    if (fclose(py) != 0)
        a4nn_die("export: cannot write %s: %s", path, strerror(errno));
    printf("wrote %s (python3 %s %s/model-%06d.h5 DATA.h5)\n", path, path, outdir, id);
    a4nn_trainer_free(tr);
    a4nn_net_free(net);
    a4nn_backend_free(be);
    free(arch), free(rows), free(state);
    app_model_free(&m);
    a4nn_report_run_free(run);
    return 0;
}

int cmd_export(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        export_usage(stdout);
        return 0;
    }
    const char *dir = NULL, *format = NULL, *outpath = NULL;
    long model = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") || !strncmp(argv[i], "--model=", 8)) {
            const char *v = argv[i][7] == '=' ? argv[i] + 8 : (i + 1 < argc ? argv[++i] : NULL);
            char *end;
            model = v ? strtol(v, &end, 10) : -1;
            if (!v || !*v || *end || model < 0)
                a4nn_die("export: --model needs a model id (a whole number >= 0)");
            continue;
        }
        if (!strcmp(argv[i], "--format") || !strcmp(argv[i], "-f")) {
            if (i + 1 >= argc)
                a4nn_die("export: %s needs csv, json or pytorch", argv[i]);
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
        a4nn_die("export: --format csv|json|pytorch is required");
    if (!strcmp(format, "pytorch")) {
        if (model < 0)
            a4nn_die("export: --format pytorch needs --model ID (a4nn status DIR or the report "
                     "list the models)");
        return export_pytorch(dir, (int)model, outpath);
    }
    if (model >= 0)
        a4nn_die("export: --model goes with --format pytorch");
    int csv = !strcmp(format, "csv");
    if (!csv && strcmp(format, "json"))
        a4nn_die("export: unknown format '%s' (csv, json or pytorch)", format);
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
