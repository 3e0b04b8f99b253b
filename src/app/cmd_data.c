/* a4nn data: the datasets the shipped configurations read, made by the
 * XFEL simulator installed beside a4nn. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "a4nn/data.h"
#include "app.h"

static const char *const FLUENCES[] = {"1e14", "1e15", "1e16"};

static void data_usage(FILE *out)
{
    fprintf(out,
            "usage: a4nn data --default | --full [-o DIR] [--fluence F]\n\n"
            "Makes the datasets the shipped configurations read, with a4nn-xfelsim (the\n"
            "one installed beside this a4nn), in the current directory unless -o says\n"
            "otherwise; complete files already there are kept.\n\n"
            "  --default   data/default/xfel-1e14.h5, -1e15.h5, -1e16.h5: the demo data of\n"
            "              configs/default.ini (32x32 patterns, 2048 train / 512 test images;\n"
            "              about half a minute per file on one core)\n"
            "  --full      data/xfel-1e14.h5, -1e15.h5, -1e16.h5: the original experiments'\n"
            "              data of configs/xfel-1e1{4,5,6}.ini (a4nn-xfelsim --full; hours on\n"
            "              one core: on a cluster run mpirun -np N a4nn-xfelsim -o FILE\n"
            "              --fluence F --full, docs/xfelsim.md)\n"
            "  -o DIR      output directory (default data/default or data)\n"
            "  --fluence F one beam intensity only (1e14, 1e15 or 1e16)\n");
}

/* a4nn-xfelsim beside the running binary. */
static void simulator(char *buf, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        a4nn_die("data: cannot find the a4nn binary's directory");
    self[n] = 0;
    snprintf(buf, cap, "%s/a4nn-xfelsim", dirname(self));
    if (access(buf, X_OK) != 0)
        a4nn_die("data: %s not found (a4nn data runs the simulator installed beside a4nn)", buf);
}

static int run_simulator(char *const *args)
{
    pid_t pid = fork();
    if (pid < 0)
        a4nn_die("data: fork: %s", strerror(errno));
    if (pid == 0) {
        execv(args[0], args);
        fprintf(stderr, "a4nn: data: cannot run %s: %s\n", args[0], strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int cmd_data(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        data_usage(stdout);
        return 0;
    }
    int full = -1;
    const char *dir = NULL, *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--default") || !strcmp(argv[i], "--full")) {
            if (full >= 0)
                a4nn_die("data: --default or --full, not both");
            full = !strcmp(argv[i], "--full");
        } else if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--fluence")) {
            if (i + 1 >= argc)
                a4nn_die("data: %s needs a value", argv[i]);
            if (argv[i][1] == 'o')
                dir = argv[++i];
            else
                only = argv[++i];
        } else
            a4nn_die("data: unknown argument '%s' (see a4nn data --help)", argv[i]);
    }
    if (full < 0) {
        data_usage(stderr);
        a4nn_die("data: say --default (the demo data) or --full (the original experiments')");
    }
    if (only && strcmp(only, "1e14") && strcmp(only, "1e15") && strcmp(only, "1e16"))
        a4nn_die("data: --fluence is 1e14, 1e15 or 1e16, not '%s'", only);
    if (!dir)
        dir = full ? "data" : "data/default";
    char sim[PATH_MAX + 32];
    simulator(sim, sizeof sim);
    char path[PATH_MAX];
    for (const char *p = dir; (p = strchr(p + 1, '/')) || 1;) { /* mkdir -p */
        snprintf(path, sizeof path, "%.*s", p ? (int)(p - dir) : (int)strlen(dir), dir);
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            a4nn_die("data: cannot create %s: %s", path, strerror(errno));
        if (!p)
            break;
    }
    for (size_t k = 0; k < A4NN_ARRAY_LEN(FLUENCES); k++) {
        if (only && strcmp(only, FLUENCES[k]))
            continue;
        char file[PATH_MAX + 32], tmp[PATH_MAX + 40], preview[PATH_MAX + 16];
        snprintf(file, sizeof file, "%s/xfel-%s.h5", dir, FLUENCES[k]);
        snprintf(tmp, sizeof tmp, "%s.tmp", file);
        snprintf(preview, sizeof preview, "%s/preview", dir);
        a4nn_dataset_info info;
        a4nn_error err;
        if (a4nn_dataset_info_read(file, &info, &err) == A4NN_OK) {
            printf("a4nn data: %s is there (%ld train + %ld test images of %dx%d), kept\n", file,
                   info.n_train, info.n_test, info.h, info.w);
            continue;
        }
        unlink(tmp);
        char *dflt[] = {sim, "-o", tmp, "--fluence", (char *)FLUENCES[k], "--pixels", "128", "--bin", "4",
                        "--n-train", "2048", "--n-test", "512", "--seed", "2023", "--preview",
                        preview, NULL};
        char *orig[] = {sim, "-o", tmp, "--fluence", (char *)FLUENCES[k], "--full", NULL};
        printf("a4nn data: making %s\n", file);
        fflush(stdout);
        int rc = run_simulator(full ? orig : dflt);
        if (rc != 0) {
            unlink(tmp);
            a4nn_die("data: a4nn-xfelsim failed (exit %d) making %s", rc, file);
        }
        if (rename(tmp, file) != 0)
            a4nn_die("data: cannot rename %s to %s: %s", tmp, file, strerror(errno));
    }
    return 0;
}
