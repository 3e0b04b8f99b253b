/* commons: reading a run's data commons back (the write side is commons.c). */
#include "a4nn/commons.h"

#include <ini.h>
#include <string.h>

typedef struct {
    a4nn_config *cfg;
    int ignored;
} config_ctx;

static int config_key(void *user, const char *section, const char *key, const char *value)
{
    config_ctx *x = user;
    a4nn_error e;
    if (a4nn_config_set(x->cfg, section, key, value ? value : "", &e) != A4NN_OK)
        x->ignored++; /* a key of another a4nn version: the rest still applies */
    return 1;
}

int a4nn_commons_config(const char *text, a4nn_config *cfg, int *n_ignored, a4nn_error *err)
{
    a4nn_config_defaults(cfg);
    config_ctx x = {cfg, 0};
    if (!text)
        return a4nn_errorf(err, "the commons stores no configuration");
    int line = ini_parse_string(text, config_key, &x);
    if (line != 0)
        return a4nn_errorf(err, "the stored configuration has a syntax error on line %d", line);
    if (n_ignored)
        *n_ignored = x.ignored;
    return A4NN_OK;
}
