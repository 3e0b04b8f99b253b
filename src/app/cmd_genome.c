/* a4nn genome: decode a genome and print its layers, parameters and MFLOPs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a4nn/config.h"
#include "a4nn/search.h"
#include "app.h"

static void genome_usage(FILE *out)
{
    fprintf(out,
            "usage: a4nn genome [options] '<genome>'\n\n"
            "Decodes an NSGA-Net macro genome (a list per phase, e.g.\n"
            "'[[0,0,0,1,1,0,1],[1,1,0,0,0,0,0],[0,1,1,0,0,1,0]]') into its network and\n"
            "prints the layers, the parameter count and the MFLOPs of one forward pass.\n\n"
            "options:\n"
            "  --input CxHxW | HxW   input shape (default 1x127x127)\n"
            "  --init-channels C     channels of the first phase (default 24)\n"
            "  --phases N            phases the genome must have (default 3, 1..%d)\n"
            "  --nodes N             nodes per phase (default 4, 2..%d)\n"
            "  --classes K           output classes (default 2)\n"
            "  --format text|json    output format (default text)\n\n"
            "errors: a genome is a list of --phases phases, each a list of N(N-1)/2\n"
            "connection bits and one residual bit for N = --nodes (7 bits for 4 nodes),\n"
            "every bit 0 or 1, separated by commas. Anything else exits non-zero with an\n"
            "error naming the problem, e.g.:\n"
            "  phase 2 has 6 bits, expected 7     a phase of the wrong length\n"
            "  phase 1 bit 3 is not 0 or 1        a bit other than 0/1\n"
            "  genome has 1 phase, expected 3     a wrong phase count\n"
            "  trailing ',' in phase 1            a comma after a phase's last bit\n",
            A4NN_MAX_PHASES, A4NN_MAX_NODES);
}

static int parse_int(const char *opt, const char *s, int lo, int hi)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        a4nn_die("genome: bad value '%s' for %s (expected an integer in %d..%d)", s, opt, lo, hi);
    return (int)v;
}

static void parse_shape(const char *s, int *c, int *h, int *w)
{
    int a, b, d;
    char tail;
    if (sscanf(s, "%dx%dx%d%c", &a, &b, &d, &tail) == 3 && a > 0 && b > 0 && d > 0) {
        *c = a, *h = b, *w = d;
        return;
    }
    if (sscanf(s, "%dx%d%c", &a, &b, &tail) == 2 && a > 0 && b > 0) {
        *c = 1, *h = a, *w = b;
        return;
    }
    a4nn_die("genome: bad value '%s' for --input (expected CxHxW or HxW, e.g. 127x127)", s);
}

int cmd_genome(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        genome_usage(stdout);
        return 0;
    }
    a4nn_config run; /* the search's defaults: one place */
    a4nn_config_defaults(&run);
    int in_c = 1, in_h = A4NN_REFERENCE_SIDE, in_w = A4NN_REFERENCE_SIDE, classes = 2;
    int init_channels = run.init_channels, phases = run.n_phases, nodes = run.n_nodes;
    int json = 0;
    const char *text = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        char key[64];
        if (app_option(argc, argv, &i, key, sizeof key, &v, "genome")) {
            if (!strcmp(key, "--input"))
                parse_shape(v, &in_c, &in_h, &in_w);
            else if (!strcmp(key, "--init-channels"))
                init_channels = parse_int(key, v, 1, 4096);
            else if (!strcmp(key, "--phases"))
                phases = parse_int(key, v, 1, A4NN_MAX_PHASES);
            else if (!strcmp(key, "--nodes"))
                nodes = parse_int(key, v, 2, A4NN_MAX_NODES);
            else if (!strcmp(key, "--classes"))
                classes = parse_int(key, v, 2, 1 << 20);
            else if (!strcmp(key, "--format")) {
                if (!strcmp(v, "json"))
                    json = 1;
                else if (strcmp(v, "text"))
                    a4nn_die("genome: bad value '%s' for --format (expected text or json)", v);
            } else
                a4nn_die("genome: unknown option '%s' (see a4nn genome --help)", key);
        } else if (!text) {
            text = a;
        } else {
            a4nn_die("genome: more than one genome given ('%s' and '%s')", text, a);
        }
    }
    if (!text) {
        genome_usage(stderr);
        a4nn_die("genome: no genome given");
    }
    a4nn_error err;
    a4nn_genome g;
    if (a4nn_genome_parse(text, phases, nodes, &g, &err) != A4NN_OK)
        a4nn_die("genome: %s", err.msg);
    a4nn_arch *arch = a4nn_malloc(sizeof *arch);
    if (a4nn_arch_build(&g, in_c, in_h, in_w, init_channels, classes, arch, &err) != A4NN_OK)
        a4nn_die("genome: %s", err.msg);
    char canon[1024];
    a4nn_genome_format(&g, canon, sizeof canon);
    if (json) {
        int n_conv = 0;
        for (int i = 0; i < arch->n_ops; i++)
            n_conv += arch->ops[i].kind == A4NN_OP_CONV;
        printf("{\"genome\": \"%s\", \"input\": [%d, %d, %d], \"init_channels\": %d, "
               "\"active_phases\": %d, \"convolutions\": %d, \"mflops\": %.6f, \"params\": %ld, "
               "\"layers\": [",
               canon, in_c, in_h, in_w, init_channels, arch->n_active_phases, n_conv,
               arch->mflops, arch->params);
        for (int i = 0; i < arch->n_ops; i++) {
            const a4nn_op *op = &arch->ops[i];
            const a4nn_shape *s = &arch->tensor[op->out];
            printf("%s{\"op\": \"%s\", \"kernel\": %d, \"phase\": %d, \"out\": [%d, %d, %d], "
                   "\"mflops\": %.6f, \"params\": %ld}",
                   i ? ", " : "", a4nn_op_name(op->kind), op->kernel, op->phase + 1, s->c, s->h,
                   s->w, op->mflops, op->params);
        }
        printf("]}\n");
    } else {
        printf("genome: %s\ninput: %dx%dx%d, init_channels %d\n\n", canon, in_c, in_h, in_w,
               init_channels);
        a4nn_arch_print(arch, stdout);
    }
    free(arch);
    return 0;
}
