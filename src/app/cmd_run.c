/* a4nn run: the MPI workflow (search on rank 0, workers, analytics). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mpi.h>

#include "a4nn/config.h"
#include "a4nn/data.h"
#include "a4nn/penguin.h"
#include "a4nn/roles.h"
#include "app.h"

/* Exit status of an interrupted, resumable run (EX_TEMPFAIL): a Slurm batch
 * script requeues the job when it sees it. */
#define RUN_EXIT_INTERRUPTED 75

/* The state a signal handler may touch: the flag the roles poll, and the
 * search rank's pid when it runs on this node. */
static volatile sig_atomic_t run_interrupted;
static volatile pid_t search_pid;

/* A signal to any rank stops the whole job: the search (rank 0) stops every
 * rank. A worker tells it over MPI; any other rank on the search's node
 * passes the signal on (kill is async-signal-safe). */
static void on_signal(int sig)
{
    (void)sig;
    run_interrupted = 1;
    if (search_pid > 0)
        kill(search_pid, SIGUSR1);
}

/* Tells every rank the search rank's pid when they share its node. */
static void share_search_pid(MPI_Comm comm, int rank)
{
    struct {
        char host[256];
        int pid;
    } me = {{0}, (int)getpid()}, root;
    gethostname(me.host, sizeof me.host - 1);
    root = me;
    if (MPI_Bcast(&root, sizeof root, MPI_BYTE, 0, comm) != MPI_SUCCESS)
        return;
    if (rank != 0 && !strcmp(root.host, me.host))
        search_pid = root.pid;
    if (run_interrupted && search_pid > 0) /* a signal that came before */
        kill(search_pid, SIGUSR1);
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
            "SIGTERM, SIGINT or SIGUSR1 to the ranks (SIGUSR1 to mpirun, which\n"
            "forwards it) stops every rank at its next batch, keeps the checkpoints\n"
            "and the commons, and exits with status %d; continue with --resume DIR\n"
            "(also after kill -9 or a full disk). A finished run resumes to nothing\n"
            "(status 0). See configs/default.ini for every key.\n"
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

/* Rank 0 checks everything the ranks will read before anything is created:
 * the dataset's contents, the replay curves, the PENGUIN curve. */
static int check_inputs(const a4nn_config *cfg, a4nn_error *err)
{
    if (cfg->backend == A4NN_WORKER_REPLAY) {
        a4nn_curve_set set;
        if (a4nn_curves_read(cfg->replay_curves, &set, err) != A4NN_OK) {
            a4nn_error why = *err;
            return a4nn_errorf(err, "worker.replay_curves: %s", why.msg);
        }
        int short_one = -1;
        for (int i = 0; i < set.n_models && short_one < 0; i++)
            if (set.models[i].n_epochs < cfg->epochs)
                short_one = i;
        int n_epochs = short_one >= 0 ? set.models[short_one].n_epochs : 0;
        a4nn_curves_free(&set);
        if (short_one >= 0)
            return a4nn_errorf(err, "worker.replay_curves: curve %d of %s has %d epochs, fewer "
                                    "than train.epochs = %d",
                               short_one, cfg->replay_curves, n_epochs, cfg->epochs);
    } else if (!cfg->synthetic && access(cfg->file, R_OK) != 0) {
        return a4nn_errorf(err, "run: cannot read data.file %s: %s (the shipped configs' "
                                "data: %s data --default makes data/default/, %s data "
                                "--full makes data/)",
                           cfg->file, strerror(errno), app_program, app_program);
    } else if (!cfg->synthetic &&
               a4nn_dataset_check(cfg->file, cfg->train_count, cfg->val_count, err) != A4NN_OK) {
        return A4NN_ERR;
    } else if (cfg->synthetic && (cfg->train_count == 0 || cfg->val_count == 0)) {
        return a4nn_errorf(err, "data.train_count and data.val_count must not be 0");
    }
    if (cfg->penguin) {
        a4nn_penguin_config pc;
        if (a4nn_config_penguin(cfg, &pc, err) != A4NN_OK)
            return A4NN_ERR;
        a4nn_curve_registry *reg = a4nn_curve_registry_alloc();
        a4nn_penguin *pg = a4nn_penguin_alloc(&pc, reg, err);
        if (pg)
            a4nn_penguin_free(pg);
        a4nn_curve_registry_free(reg);
        if (!pg)
            return A4NN_ERR;
    }
    return A4NN_OK;
}

/* One run per directory: rank 0 holds an exclusive lock on DIR/lock for the
 * whole run. The kernel drops it when the process ends, however it ends
 * (kill -9 included); the ranks of a job that was just killed may hold it a
 * moment longer, so wait up to 10 s before naming the holder. */
static int lock_dir(const char *dir, int *fd_out, a4nn_error *err)
{
    char path[A4NN_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return a4nn_errorf(err, "run: cannot create %s: %s", path, strerror(errno));
    for (int tries = 0; flock(fd, LOCK_EX | LOCK_NB) != 0; tries++) {
        if (errno != EWOULDBLOCK || tries == 100) {
            char holder[160] = "";
            ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
            holder[n > 0 ? n : 0] = '\0';
            holder[strcspn(holder, "\n")] = '\0';
            close(fd);
            return a4nn_errorf(err, "run: %s is in use by %s (a run still going or still "
                                    "exiting); wait for it to end or stop it",
                               dir, holder[0] ? holder : "another process");
        }
        usleep(100000);
    }
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    char me[128];
    int n = snprintf(me, sizeof me, "a4nn run, pid %d on %s\n", (int)getpid(), host);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, me, (size_t)n, 0) != n) {
        /* the lock holds without its note */
    }
    *fd_out = fd;
    return A4NN_OK;
}

/* Rank 0's set-up of the run directory. A run exists once commons.h5 does
 * (the search creates it, atomically, after every check passed): a start
 * that failed before leaves nothing to resume and can simply be run again. */
static int prepare_dir(const a4nn_config *cfg, const char *dir, int resume, int size,
                       FILE **log, int *lock_fd, a4nn_error *err)
{
    char path[1200];
    if (!resume && a4nn_mkdir_p(dir, err) != A4NN_OK)
        return A4NN_ERR;
    if (!resume && access(dir, W_OK) != 0)
        return a4nn_errorf(err, "run: cannot write to %s: %s", dir, strerror(errno));
    if (lock_dir(dir, lock_fd, err) != A4NN_OK)
        return A4NN_ERR;
    snprintf(path, sizeof path, "%s/commons.h5", dir);
    if (resume && access(path, R_OK | W_OK) != 0)
        return a4nn_errorf(err, "run: cannot resume %s: %s (the run never started; start it "
                                "with a4nn run CONFIG --run.dir=%s)",
                           dir, errno == ENOENT ? "no commons.h5" : strerror(errno), dir);
    if (!resume && access(path, F_OK) == 0)
        return a4nn_errorf(err, "run: %s already holds a run (use --resume %s or another "
                                "run.dir)", dir, dir);
    snprintf(path, sizeof path, "%s/checkpoints", dir);
    if (a4nn_mkdir_p(path, err) != A4NN_OK)
        return A4NN_ERR;
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
    /* from here on a signal asks for a clean stop (also one that arrives
     * while the inputs are checked) */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
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
            else if (a4nn_config_read(&cfg, p, &err) != A4NN_OK) {
                a4nn_error why = err;
                ok = a4nn_errorf(&err, "run: cannot resume %s: %s", dir, why.msg) == A4NN_OK;
            }
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

    /* rank 0 checks the inputs, then sets up the run directory; every rank
     * learns the outcome, so a bad input ends the job with one line and no
     * MPI abort (0: go, 1 and 2: error, 3: the run has finished) */
    FILE *log = NULL;
    int status = ok ? 0 : 1, lock_fd = -1;
    char finished[A4NN_PATH_MAX + 64];
    snprintf(finished, sizeof finished, "%s/finished", dir);
    if (ok && rank == 0) {
        if (resume && access(finished, F_OK) == 0)
            status = 3;
        else if (check_inputs(&cfg, &err) != A4NN_OK)
            status = 2;
        else if (prepare_dir(&cfg, dir, resume, size, &log, &lock_fd, &err) != A4NN_OK)
            status = 2;
    }
    if (MPI_Bcast(&status, 1, MPI_INT, 0, comm) != MPI_SUCCESS)
        a4nn_die("run: MPI_Bcast failed");
    if (status != 0) {
        if (rank == 0 && status == 3)
            printf("a4nn run: %s has finished (results in %s/results.csv); nothing to resume\n",
                   dir, dir);
        else if (rank == 0)
            fprintf(stderr, "a4nn: %s\n", err.msg);
        if (log)
            fclose(log);
        MPI_Finalize();
        return status == 3 ? 0 : 1;
    }

    share_search_pid(comm, rank);

    /* the worker ranks among themselves: GPU binding (by node-local rank
     * among the workers) and worker groups */
    const int is_worker = rank > 0 && rank < size - cfg.analytics_ranks;
    MPI_Comm workers = MPI_COMM_NULL;
    if (MPI_Comm_split(comm, is_worker ? 0 : MPI_UNDEFINED, rank, &workers) != MPI_SUCCESS)
        a4nn_die("run: cannot make the workers' communicator (MPI_Comm_split failed)");
    if (workers != MPI_COMM_NULL)
        MPI_Comm_set_errhandler(workers, MPI_ERRORS_RETURN);


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
    search_pid = 0; /* the search may be gone: pass nothing on from here */
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
    if (rank == 0 && !interrupted) {
        /* a --resume of this directory now says it has finished */
        FILE *f = fopen(finished, "w");
        time_t now = time(NULL);
        if (f)
            fprintf(f, "finished %s", ctime(&now));
        if (!f || fclose(f) != 0)
            fprintf(stderr, "a4nn: run: cannot write %s\n", finished);
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
    if (lock_fd >= 0)
        close(lock_fd);
    /* only the search reports the interruption in its exit status, so that
     * mpirun does not cut the other ranks short */
    return rank == 0 && interrupted ? RUN_EXIT_INTERRUPTED : 0;
}
