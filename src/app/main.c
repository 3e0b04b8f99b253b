/* a4nn: one binary, one subcommand per task. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "a4nn/util.h"
#include "app.h"

static const a4nn_command commands[] = {
    {"data", "make the datasets the shipped configurations read (--default, --full)", cmd_data},
    {"genome", "decode a genome: layers, parameters, MFLOPs", cmd_genome},
    {"train", "train one genome and print its learning curve", cmd_train},
    {"penguin", "replay learning curves through PENGUIN prediction and stopping", cmd_penguin},
    {"run", "run the MPI architecture search (search, workers, analytics)", cmd_run},
    {"status", "where a search stands: models done and pending, best, front, ETA", cmd_status},
    {"report", "HTML report and summary of one or more run directories", cmd_report},
    {"export", "export a run's data commons (CSV, JSON) or a model for PyTorch", cmd_export},
    {"predict", "class probabilities of a saved network on a dataset", cmd_predict},
};

const char *app_program = "a4nn";

void app_mpirun(char *buf, size_t cap, int ranks)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(buf, cap, "mpirun %s-np %d %s", cores > 0 && ranks > cores ? "--oversubscribe " : "",
             ranks, app_program);
}

int app_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return 1;
    return 0;
}

int app_option(int argc, char **argv, int *i, char *key, size_t cap, const char **value,
               const char *cmd)
{
    const char *a = argv[*i];
    if (strncmp(a, "--", 2) != 0)
        return 0;
    const char *eq = strchr(a, '=');
    size_t n = eq ? (size_t)(eq - a) : strlen(a);
    if (n >= cap)
        a4nn_die("%s: unknown option '%s'", cmd, a);
    memcpy(key, a, n);
    key[n] = '\0';
    if (eq)
        *value = eq + 1;
    else if (*i + 1 < argc)
        *value = argv[++*i];
    else
        a4nn_die("%s: option %s needs a value", cmd, key);
    return 1;
}

static void usage(FILE *out)
{
    fprintf(out, "a4nn %s: neural architecture search with learning-curve prediction\n\n"
                 "usage: a4nn <command> [options]   (a4nn <command> --help for details)\n\n"
                 "commands:\n",
            A4NN_VERSION);
    for (size_t i = 0; i < A4NN_ARRAY_LEN(commands); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc > 0 && argv[0] && argv[0][0])
        app_program = argv[0];
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        a4nn_print_version(stdout, "a4nn");
        return 0;
    }
    for (size_t i = 0; i < A4NN_ARRAY_LEN(commands); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "a4nn: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
