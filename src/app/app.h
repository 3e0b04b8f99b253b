/* app: the a4nn command-line driver. Each subcommand lives in its own
 * cmd_<name>.c and is listed once in the table in main.c. */
#ifndef A4NN_APP_H
#define A4NN_APP_H

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
} a4nn_command;

int cmd_genome(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_penguin(int argc, char **argv);

/* Returns 1 when argv holds -h or --help. */
int app_wants_help(int argc, char **argv);

#endif
