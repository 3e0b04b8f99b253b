/* a4nn run: the MPI workflow (search on rank 0, workers, analytics). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mpi.h>

#include "a4nn/config.h"
#include "a4nn/data.h"
#include "a4nn/roles.h"
#include "app.h"

/* Exit status of an interrupted, resumable run (EX_TEMPFAIL): a Slurm batch
 * script requeues the job when it sees it. */
#define RUN_EXIT_INTERRUPTED 75

/* The one piece of state a signal handler may touch. */
static volatile sig_atomic_t run_interrupted;

static void on_signal(int sig)
{
    (void)sig;
    run_interrupted = 1;
}

static void run_usage(FILE *out)
{
    fprintf(out,
            "usage: mpirun -np N a4nn run CONFIG.ini [--section.key=value ...]\n"
            "       mpirun -np N a4nn run --resume DIR\n\n"
            "Runs the architecture search: rank 0 searches (NSGA-II), the last\n"
            "analytics.ranks ranks predict learning curves (PENGUIN) and stop converged\n"
            "models, every other rank is a worker. N >= analytics.ranks + 2. With\n"
            "worker.group_size = G, each G consecutive worker ranks train one model\n"
            "together (data parallel; NCCL on GPUs, MPI_Allreduce on CPUs).\n\n"
            "The run directory (run.dir) receives commons.h5 (the data commons),\n"
            "results.csv, pareto.csv, config.ini (the resolved configuration), run.log\n"
            "and checkpoints/.\n\n"
            "SIGTERM or SIGUSR1 stops every rank at its next batch, keeps the\n"
            "checkpoints and the commons, and exits with status %d; continue with\n"
            "--resume DIR (also after kill -9). See configs/default.ini for every key.\n"
            "  --quiet     no progress lines on stdout (run.log still has them)\n",
            RUN_EXIT_INTERRUPTED);
}

/* Replaces path by its absolute form when it names an existing file. */
static void absolute_path(char *path, size_t cap)
{
    char *abs = path[0] ? realpath(path, NULL) : NULL;
    if (abs && strlen(abs) < cap)
        snprintf(path, cap, "%s", abs);
    free(abs);
}

/* Rank 0's checks and set-up of the run directory. */
static int prepare_dir(const a4nn_config *cfg, const char *dir, int resume, int size,
                       FILE **log, a4nn_error *err)
{
    char path[1200];
    if (resume) {
        snprintf(path, sizeof path, "%s/commons.h5", dir);
        if (access(path, R_OK | W_OK) != 0)
            return a4nn_errorf(err, "run: cannot resume %s: %s: %s", dir, path, strerror(errno));
    } else {
        if (a4nn_mkdir_p(dir, err) != A4NN_OK)
            return A4NN_ERR;
        snprintf(path, sizeof path, "%s/commons.h5", dir);
        if (access(path, F_OK) == 0)
            return a4nn_errorf(err, "run: %s already holds a run (use --resume %s or another "
                                    "run.dir)", dir, dir);
        if (access(dir, W_OK) != 0)
            return a4nn_errorf(err, "run: cannot write to %s: %s", dir, strerror(errno));
    }
    snprintf(path, sizeof path, "%s/checkpoints", dir);
    if (a4nn_mkdir_p(path, err) != A4NN_OK)
        return A4NN_ERR;
    if (cfg->backend != A4NN_WORKER_REPLAY && !cfg->synthetic) {
        a4nn_dataset_info info;
        if (access(cfg->file, R_OK) != 0)
            return a4nn_errorf(err, "run: cannot read data.file %s: %s (the shipped configs' "
                                    "data: %s data --default makes data/default/, %s data "
                                    "--full makes data/)",
                               cfg->file, strerror(errno), app_program, app_program);
        if (a4nn_dataset_info_read(cfg->file, &info, err) != A4NN_OK)
            return A4NN_ERR;
    } else if (cfg->backend == A4NN_WORKER_REPLAY && access(cfg->replay_curves, R_OK) != 0) {
        return a4nn_errorf(err, "run: cannot read worker.replay_curves %s: %s",
                           cfg->replay_curves, strerror(errno));
    }
    if (!resume) {
        snprintf(path, sizeof path, "%s/config.ini", dir);
        FILE *f = fopen(path, "w");
        if (!f)
            return a4nn_errorf(err, "run: cannot write %s: %s", path, strerror(errno));
        fprintf(f, "; resolved configuration of this run (a4nn %s)\n", A4NN_VERSION);
        a4nn_config_write(cfg, f);
        if (fclose(f) != 0)
            return a4nn_errorf(err, "run: cannot write %s", path);
    }
    snprintf(path, sizeof path, "%s/run.log", dir);
    *log = fopen(path, "a");
    if (!*log)
        return a4nn_errorf(err, "run: cannot write %s: %s", path, strerror(errno));
    fprintf(*log, "---- a4nn %s run on %d ranks%s\n", A4NN_VERSION, size,
            resume ? " (resumed)" : "");
    return A4NN_OK;
}

int cmd_run(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        run_usage(stdout);
        return 0;
    }
    int provided;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        a4nn_die("run: MPI_Init failed");
    MPI_Comm comm = MPI_COMM_WORLD;
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);

    a4nn_config cfg;
    a4nn_config_defaults(&cfg);
    a4nn_error err = {{0}};
    int ok = 1, resume = 0, quiet = 0;
    const char *config_path = NULL;
    char dir[A4NN_PATH_MAX + 32] = "";
    for (int i = 1; i < argc && ok; i++) {
        if (!strcmp(argv[i], "--resume")) {
            if (i + 1 >= argc)
                ok = a4nn_errorf(&err, "run: --resume needs a run directory") == A4NN_OK;
            else {
                resume = 1;
                snprintf(dir, sizeof dir, "%s", argv[++i]);
            }
        } else if (!strncmp(argv[i], "--resume=", 9)) {
            resume = 1;
            snprintf(dir, sizeof dir, "%s", argv[i] + 9);
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if (!strncmp(argv[i], "--", 2)) {
            continue; /* overrides, applied after the file */
        } else if (!config_path) {
            config_path = argv[i];
        } else {
            ok = a4nn_errorf(&err, "run: unexpected argument '%s'", argv[i]) == A4NN_OK;
        }
    }
    if (ok && resume && config_path)
        ok = a4nn_errorf(&err, "run: give either CONFIG or --resume DIR, not both") == A4NN_OK;
    if (ok && !resume && !config_path)
        ok = a4nn_errorf(&err, "run: no CONFIG given (see a4nn run --help)") == A4NN_OK;
    if (ok) {
        if (resume) {
            char p[A4NN_PATH_MAX + 64];
            snprintf(p, sizeof p, "%s/config.ini", dir);
            struct stat sb;
            if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
                ok = a4nn_errorf(&err, "run: cannot resume %s: not a readable run directory",
                                 dir) == A4NN_OK;
            else if (a4nn_config_read(&cfg, p, &err) != A4NN_OK)
                ok = a4nn_errorf(&err, "run: cannot resume %s: %s", dir, err.msg) == A4NN_OK;
        } else if (a4nn_config_read(&cfg, config_path, &err) != A4NN_OK) {
            ok = 0;
        }
    }
    for (int i = 1; i < argc && ok; i++) {
        if (strncmp(argv[i], "--", 2) || !strcmp(argv[i], "--quiet") ||
            !strncmp(argv[i], "--resume", 8)) {
            if (!strcmp(argv[i], "--resume"))
                i++;
            continue;
        }
        if (resume)
            ok = a4nn_errorf(&err, "run: a resumed run keeps its configuration; '%s' is not "
                                   "allowed with --resume", argv[i]) == A4NN_OK;
        else if (a4nn_config_override(&cfg, argv[i], &err) != A4NN_OK)
            ok = 0;
    }
    if (ok && a4nn_config_validate(&cfg, &err) != A4NN_OK)
        ok = 0;
    if (ok && !resume) {
        snprintf(dir, sizeof dir, "%s", cfg.dir);
        /* input paths become absolute in the resolved config.ini, so a resumed
         * (or requeued) run finds them from any working directory */
        absolute_path(cfg.file, sizeof cfg.file);
        absolute_path(cfg.replay_curves, sizeof cfg.replay_curves);
    }
    if (ok && size < cfg.analytics_ranks + 1 + cfg.group_size)
        ok = a4nn_errorf(&err, "run: %d ranks are too few: one search rank, at least one "
                               "worker (of worker.group_size = %d ranks) and %d analytics "
                               "rank(s) need %d",
                         size, cfg.group_size, cfg.analytics_ranks,
                         cfg.analytics_ranks + 1 + cfg.group_size) == A4NN_OK;
    const int worker_ranks = size - 1 - cfg.analytics_ranks;
    if (ok && worker_ranks % cfg.group_size)
        ok = a4nn_errorf(&err, "run: %d worker ranks (%d ranks - 1 search - %d analytics) "
                               "cannot form groups of worker.group_size = %d",
                         worker_ranks, size, cfg.analytics_ranks, cfg.group_size) == A4NN_OK;

    /* rank 0 sets up the run directory; every rank learns the outcome */
    FILE *log = NULL;
    int status = ok ? 0 : 1;
    if (ok && rank == 0 && prepare_dir(&cfg, dir, resume, size, &log, &err) != A4NN_OK)
        status = 2;
    if (MPI_Bcast(&status, 1, MPI_INT, 0, comm) != MPI_SUCCESS)
        a4nn_die("run: MPI_Bcast failed");
    if (status != 0) {
        if (rank == 0)
            fprintf(stderr, "a4nn: %s\n", err.msg);
        if (log)
            fclose(log);
        MPI_Finalize();
        return 1;
    }

    /* the worker ranks among themselves: GPU binding (by node-local rank
     * among the workers) and worker groups */
    const int is_worker = rank > 0 && rank < size - cfg.analytics_ranks;
    MPI_Comm workers = MPI_COMM_NULL;
    if (MPI_Comm_split(comm, is_worker ? 0 : MPI_UNDEFINED, rank, &workers) != MPI_SUCCESS)
        a4nn_die("run: cannot make the workers' communicator (MPI_Comm_split failed)");
    if (workers != MPI_COMM_NULL)
        MPI_Comm_set_errhandler(workers, MPI_ERRORS_RETURN);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);

    a4nn_role_ctx ctx = {
        .comm = comm,
        .rank = rank,
        .size = size,
        .n_analytics = cfg.analytics_ranks,
        .n_workers = worker_ranks / cfg.group_size,
        .group_size = cfg.group_size,
        .workers = workers,
        .cfg = &cfg,
        .dir = dir,
        .resume = resume,
        .interrupted = &run_interrupted,
        .log = log,
        .quiet = quiet,
    };
    int rc;
    const char *role;
    if (rank == 0)
        rc = a4nn_role_search(&ctx, &err), role = "search";
    else if (!is_worker)
        rc = a4nn_role_analytics(&ctx, &err), role = "analytics";
    else
        rc = a4nn_role_worker(&ctx, &err), role = "worker";
    if (rc == A4NN_ERR) {
        char mpirun[1200];
        app_mpirun(mpirun, sizeof mpirun, size);
        fprintf(stderr, "a4nn: run: rank %d (%s): %s; aborting the job (finished models are "
                        "in %s/commons.h5, resume with: %s run --resume %s)\n",
                rank, role, err.msg, dir, mpirun, dir);
        fflush(stderr);
        if (log) {
            fprintf(log, "a4nn: run: rank %d (%s): %s\n", rank, role, err.msg);
            fclose(log);
        }
        MPI_Abort(comm, 1);
        return 1;
    }
    int interrupted = rc == 1 || run_interrupted;
    if (rank == 0 && interrupted) {
        char mpirun[1200];
        app_mpirun(mpirun, sizeof mpirun, size);
        fprintf(stderr,
                "a4nn: run interrupted; checkpoints and the commons are saved. Continue "
                "with: %s run --resume %s\n",
                mpirun, dir);
        fflush(stderr);
        if (log)
            fprintf(log, "interrupted; continue with: %s run --resume %s\n", mpirun, dir);
    }
    if (log)
        fclose(log);
    if (workers != MPI_COMM_NULL)
        MPI_Comm_free(&workers);
    /* every rank is done before any exits, so mpirun sees the search's status */
    if (MPI_Barrier(comm) != MPI_SUCCESS) {
        fprintf(stderr, "a4nn: run: rank %d: MPI_Barrier at the end failed\n", rank);
        MPI_Abort(comm, 1);
    }
    MPI_Finalize();
    /* only the search reports the interruption in its exit status, so that
     * mpirun does not cut the other ranks short */
    return rank == 0 && interrupted ? RUN_EXIT_INTERRUPTED : 0;
}
