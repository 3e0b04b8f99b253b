/* app: the a4nn command-line driver. Each subcommand lives in its own
 * cmd_<name>.c and is listed once in the table in main.c. */
#ifndef A4NN_APP_H
#define A4NN_APP_H

#include <stddef.h>

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
} a4nn_command;

int cmd_genome(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_penguin(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_data(int argc, char **argv);

/* The a4nn binary as the user invoked it (argv[0]), for hints. */
extern const char *app_program;

/* "mpirun -np N PROGRAM", with --oversubscribe when N exceeds this
 * machine's cores (Open MPI refuses more ranks than slots otherwise), so a
 * printed command works as shown. */
void app_mpirun(char *buf, size_t cap, int ranks);

/* Returns 1 when argv holds -h or --help. */
int app_wants_help(int argc, char **argv);

/* Reads the option at argv[*i], written "--key=value" or "--key value":
 * copies "--key" into key and points *value at the value, advancing *i past
 * a separate value. Returns 0 when argv[*i] does not start with "--". Dies
 * with "a4nn: <cmd>: ..." when the key is too long or the value missing. */
int app_option(int argc, char **argv, int *i, char *key, size_t cap, const char **value,
               const char *cmd);

#endif
