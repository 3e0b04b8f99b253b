/* NSGA-Net macro genome: parsing, validation and decoding into a4nn_arch.
 * Decoding follows NSGA-Net's ResidualGenomeDecoder/ResidualPhase so that
 * parameter and FLOP counts match the original implementation. */
#include <ctype.h>
#include <string.h>

#include "a4nn/search.h"

int a4nn_genome_phase_bits(int n_nodes) { return n_nodes * (n_nodes - 1) / 2 + 1; }

int a4nn_genome_validate(const a4nn_genome *g, a4nn_error *err)
{
    if (g->n_phases < 1 || g->n_phases > A4NN_MAX_PHASES)
        return a4nn_errorf(err, "bad genome: %d phases (expected 1..%d)", g->n_phases,
                           A4NN_MAX_PHASES);
    if (g->n_nodes < 2 || g->n_nodes > A4NN_MAX_NODES)
        return a4nn_errorf(err, "bad genome: %d nodes per phase (expected 2..%d)", g->n_nodes,
                           A4NN_MAX_NODES);
    int nb = a4nn_genome_phase_bits(g->n_nodes);
    for (int p = 0; p < g->n_phases; p++)
        for (int b = 0; b < nb; b++)
            if (g->bits[p][b] > 1)
                return a4nn_errorf(err, "bad genome: phase %d bit %d is %d (bits are 0 or 1)",
                                   p + 1, b + 1, g->bits[p][b]);
    return A4NN_OK;
}

static const char *skip_space(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return s;
}

int a4nn_genome_parse(const char *text, int n_phases, int n_nodes, a4nn_genome *g,
                      a4nn_error *err)
{
    memset(g, 0, sizeof *g);
    if (n_nodes < 2 || n_nodes > A4NN_MAX_NODES)
        return a4nn_errorf(err, "bad genome: %d nodes per phase (expected 2..%d)", n_nodes,
                           A4NN_MAX_NODES);
    if (n_phases < 0 || n_phases > A4NN_MAX_PHASES)
        return a4nn_errorf(err, "bad genome: cannot expect %d phases (1..%d)", n_phases,
                           A4NN_MAX_PHASES);
    g->n_nodes = n_nodes;
    const int nb = a4nn_genome_phase_bits(n_nodes);
    const char *s = skip_space(text ? text : "");
    if (*s != '[')
        return a4nn_errorf(err, "bad genome '%s': expected '[' to open the list of phases",
                           text ? text : "");
    s = skip_space(s + 1);
    int p = 0;
    for (;;) {
        if (*s != '[')
            return a4nn_errorf(err, "bad genome: expected '[' to open phase %d", p + 1);
        if (p >= A4NN_MAX_PHASES)
            return a4nn_errorf(err, "bad genome: more than %d phases", A4NN_MAX_PHASES);
        s = skip_space(s + 1);
        int b = 0;
        while (*s != ']') {
            if (*s != '0' && *s != '1') {
                if (isdigit((unsigned char)*s) || *s == '-')
                    return a4nn_errorf(err, "bad genome: phase %d bit %d is not 0 or 1", p + 1,
                                       b + 1);
                return a4nn_errorf(err, "bad genome: unexpected '%c' in phase %d",
                                   *s ? *s : '?', p + 1);
            }
            if (isdigit((unsigned char)s[1]))
                return a4nn_errorf(err, "bad genome: phase %d bit %d is not 0 or 1", p + 1,
                                   b + 1);
            if (b >= nb)
                return a4nn_errorf(err,
                                   "bad genome: phase %d has more than %d bits (%d nodes: "
                                   "%d connection bits + 1 residual bit)",
                                   p + 1, nb, n_nodes, nb - 1);
            g->bits[p][b++] = (uint8_t)(*s - '0');
            s = skip_space(s + 1);
            if (*s == ',') {
                s = skip_space(s + 1);
                if (*s == ']') /* "[1,0,]" would otherwise pass as "[1,0]" */
                    return a4nn_errorf(err, "bad genome: trailing ',' in phase %d", p + 1);
            } else if (*s != ']')
                return a4nn_errorf(err, "bad genome: expected ',' or ']' in phase %d", p + 1);
        }
        if (b != nb)
            return a4nn_errorf(err,
                               "bad genome: phase %d has %d bits, expected %d (%d nodes: %d "
                               "connection bits + 1 residual bit)",
                               p + 1, b, nb, n_nodes, nb - 1);
        p++;
        s = skip_space(s + 1);
        if (*s == ',') {
            s = skip_space(s + 1);
            continue;
        }
        if (*s == ']')
            break;
        return a4nn_errorf(err, "bad genome: expected ',' or ']' after phase %d", p);
    }
    s = skip_space(s + 1);
    if (*s)
        return a4nn_errorf(err, "bad genome: trailing text '%s'", s);
    if (n_phases && p != n_phases)
        return a4nn_errorf(err, "genome has %d phase%s, expected %d", p,
                           p == 1 ? "" : "s", n_phases);
    g->n_phases = p;
    return a4nn_genome_validate(g, err);
}

int a4nn_genome_format(const a4nn_genome *g, char *buf, int cap)
{
    int nb = a4nn_genome_phase_bits(g->n_nodes), n = 0;
#define PUT(...)                                                                                   \
    do {                                                                                           \
        int k_ = snprintf(buf + n, n < cap ? (size_t)(cap - n) : 0, __VA_ARGS__);                  \
        n += k_;                                                                                   \
    } while (0)
    PUT("[");
    for (int p = 0; p < g->n_phases; p++) {
        PUT("%s[", p ? ", " : "");
        for (int b = 0; b < nb; b++)
            PUT("%s%d", b ? ", " : "", g->bits[p][b]);
        PUT("]");
    }
    PUT("]");
#undef PUT
    return n < cap ? n : -1;
}

int a4nn_genome_phase_active(const a4nn_genome *g, int phase)
{
    int nb = a4nn_genome_phase_bits(g->n_nodes);
    for (int b = 0; b < nb - 1; b++)
        if (g->bits[phase][b])
            return 1;
    return 0;
}

int a4nn_genome_equal(const a4nn_genome *a, const a4nn_genome *b)
{
    if (a->n_phases != b->n_phases || a->n_nodes != b->n_nodes)
        return 0;
    int nb = a4nn_genome_phase_bits(a->n_nodes);
    for (int p = 0; p < a->n_phases; p++)
        if (memcmp(a->bits[p], b->bits[p], (size_t)nb) != 0)
            return 0;
    return 1;
}

int a4nn_genome_flatten(const a4nn_genome *g, uint8_t *out)
{
    int nb = a4nn_genome_phase_bits(g->n_nodes), n = 0;
    for (int p = 0; p < g->n_phases; p++)
        for (int b = 0; b < nb; b++)
            out[n++] = g->bits[p][b];
    return n;
}

int a4nn_genome_unflatten(const uint8_t *bits, int n_phases, int n_nodes, a4nn_genome *g,
                          a4nn_error *err)
{
    memset(g, 0, sizeof *g);
    g->n_phases = n_phases;
    g->n_nodes = n_nodes;
    if (n_phases < 1 || n_phases > A4NN_MAX_PHASES || n_nodes < 2 || n_nodes > A4NN_MAX_NODES)
        return a4nn_genome_validate(g, err);
    int nb = a4nn_genome_phase_bits(n_nodes);
    for (int p = 0; p < n_phases; p++)
        for (int b = 0; b < nb; b++)
            g->bits[p][b] = bits[p * nb + b];
    return a4nn_genome_validate(g, err);
}

/* The connection bits of node k (1-based, k >= 2) start at (k-1)(k-2)/2:
 * node 2 has one bit (from node 1), node 3 two bits (nodes 1, 2), ... */
static int conn_bit(const a4nn_genome *g, int phase, int to, int from)
{
    return g->bits[phase][(to - 1) * (to - 2) / 2 + (from - 1)];
}

void a4nn_phase_decode(const a4nn_genome *g, int phase, a4nn_phase_graph *pg)
{
    const int n = g->n_nodes, out = n + 1;
    const int nb = a4nn_genome_phase_bits(n);
    memset(pg, 0, sizeof *pg);
    pg->n_nodes = n;
    for (int k = 2; k <= n; k++)
        for (int j = 1; j < k; j++)
            if (conn_bit(g, phase, k, j))
                pg->deps[k][pg->n_deps[k]++] = j;
    if (g->bits[phase][nb - 1])
        pg->deps[out][pg->n_deps[out]++] = 0;

    int no_input[A4NN_MAX_NODES + 1] = {0}, no_output[A4NN_MAX_NODES + 1] = {0};
    for (int i = 1; i <= n; i++) {
        no_input[i] = pg->n_deps[i] == 0;
        int has_output = 0;
        for (int j = i + 1; j <= n && !has_output; j++)
            for (int d = 0; d < pg->n_deps[j]; d++)
                if (pg->deps[j][d] == i)
                    has_output = 1;
        no_output[i] = !has_output;
    }
    /* Nodes with inputs but no outputs feed the phase output; nodes with
     * outputs but no inputs read the phase input; isolated nodes vanish. */
    for (int i = 1; i <= n; i++)
        if (no_output[i] && !no_input[i])
            pg->deps[out][pg->n_deps[out]++] = i;
    for (int i = 1; i <= n; i++)
        if (no_input[i] && !no_output[i])
            pg->deps[i][pg->n_deps[i]++] = 0;
}

/* ---- building the op list ---------------------------------------------- */

typedef struct {
    a4nn_arch *a;
    a4nn_error *err;
    int phase;
} builder;

static int new_tensor(builder *b, int c, int h, int w)
{
    a4nn_arch *a = b->a;
    if (a->n_tensors >= A4NN_MAX_TENSORS) {
        a4nn_errorf(b->err, "network too large: more than %d tensors", A4NN_MAX_TENSORS);
        return -1;
    }
    a->tensor[a->n_tensors] = (a4nn_shape){c, h, w};
    return a->n_tensors++;
}

/* Appends an op; returns its output tensor id or -1. */
static int add_op(builder *b, a4nn_op_kind kind, const int *in, int n_in, int c_out, int k,
                  int pad, int bias)
{
    a4nn_arch *a = b->a;
    if (a->n_ops >= A4NN_MAX_OPS) {
        a4nn_errorf(b->err, "network too large: more than %d ops", A4NN_MAX_OPS);
        return -1;
    }
    const a4nn_shape x = a->tensor[in[0]];
    int c = x.c, h = x.h, w = x.w;
    double flops = 0;
    long params = 0;
    switch (kind) {
    case A4NN_OP_CONV:
        h = x.h + 2 * pad - k + 1;
        w = x.w + 2 * pad - k + 1;
        c = c_out;
        if (h < 1 || w < 1) {
            a4nn_errorf(b->err, "input %dx%d too small for a %dx%d convolution", x.h, x.w, k, k);
            return -1;
        }
        flops = (double)c * h * w * x.c * k * k + (bias ? (double)c * h * w : 0);
        params = (long)c * x.c * k * k + (bias ? c : 0);
        break;
    case A4NN_OP_BN:
        flops = 2.0 * x.c * x.h * x.w;
        params = 2L * x.c;
        break;
    case A4NN_OP_RELU:
        flops = (double)x.c * x.h * x.w;
        break;
    case A4NN_OP_CONCAT:
        c = 0;
        for (int i = 0; i < n_in; i++)
            c += a->tensor[in[i]].c;
        break;
    case A4NN_OP_MAXPOOL:
        h = x.h / 2;
        w = x.w / 2;
        if (h < 1 || w < 1) {
            a4nn_errorf(b->err, "input %dx%d too small for 2x2 max pooling", x.h, x.w);
            return -1;
        }
        flops = (double)x.c * x.h * x.w;
        break;
    case A4NN_OP_GAP:
        h = w = 1;
        flops = (double)x.c * x.h * x.w;
        break;
    case A4NN_OP_LINEAR:
        c = c_out;
        h = w = 1;
        flops = (double)x.c * x.h * x.w * c_out + c_out;
        params = (long)x.c * x.h * x.w * c_out + c_out;
        break;
    }
    int t = new_tensor(b, c, h, w);
    if (t < 0)
        return -1;
    a4nn_op *op = &a->ops[a->n_ops++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->n_in = n_in;
    memcpy(op->in, in, sizeof(int) * (size_t)n_in);
    op->out = t;
    op->kernel = k;
    op->pad = pad;
    op->bias = bias;
    op->phase = b->phase;
    op->mflops = flops / 1e6;
    op->params = params;
    a->mflops += op->mflops;
    a->params += params;
    return t;
}

static int unary(builder *b, a4nn_op_kind kind, int x)
{
    return add_op(b, kind, &x, 1, 0, 0, 0, 0);
}

static int conv(builder *b, int x, int c_out, int k, int pad)
{
    return add_op(b, A4NN_OP_CONV, &x, 1, c_out, k, pad, 0);
}

/* Concatenates the listed vertex outputs and, when there are several, reduces
 * them back to `c` channels with a 1x1 conv (NSGA-Net's "processors"). */
static int gather(builder *b, const int *vertex_out, const int *deps, int n_deps, int c)
{
    int in[A4NN_MAX_OP_INPUTS] = {0};
    for (int i = 0; i < n_deps; i++)
        in[i] = vertex_out[deps[i]];
    if (n_deps == 1)
        return in[0];
    int cat = add_op(b, A4NN_OP_CONCAT, in, n_deps, 0, 0, 0, 0);
    return cat < 0 ? -1 : conv(b, cat, c, 1, 0);
}

static int build_phase(builder *b, const a4nn_genome *g, int phase, int x, int c_out,
                       int active_index)
{
    a4nn_phase_graph pg;
    a4nn_phase_decode(g, phase, &pg);
    const int n = pg.n_nodes;
    if (b->a->tensor[x].c != c_out) {
        /* first active phase: 3x3 without padding; later ones 1x1 */
        x = active_index == 0 ? conv(b, x, c_out, 3, 0) : conv(b, x, c_out, 1, 0);
        if (x < 0)
            return -1;
    }
    int vertex_out[A4NN_MAX_NODES + 2];
    vertex_out[0] = x;
    for (int i = 1; i <= n; i++) {
        vertex_out[i] = -1;
        if (pg.n_deps[i] == 0)
            continue;
        int t = gather(b, vertex_out, pg.deps[i], pg.n_deps[i], c_out);
        if (t < 0 || (t = conv(b, t, c_out, 3, 1)) < 0 || (t = unary(b, A4NN_OP_BN, t)) < 0 ||
            (t = unary(b, A4NN_OP_RELU, t)) < 0)
            return -1;
        vertex_out[i] = t;
    }
    int t = gather(b, vertex_out, pg.deps[n + 1], pg.n_deps[n + 1], c_out);
    if (t < 0 || (t = unary(b, A4NN_OP_BN, t)) < 0)
        return -1;
    return unary(b, A4NN_OP_RELU, t);
}

int a4nn_arch_build(const a4nn_genome *g, int in_c, int in_h, int in_w, int init_channels,
                    int n_classes, a4nn_arch *arch, a4nn_error *err)
{
    if (a4nn_genome_validate(g, err) != A4NN_OK)
        return A4NN_ERR;
    if (in_c < 1 || in_h < 1 || in_w < 1)
        return a4nn_errorf(err, "bad input shape %dx%dx%d", in_c, in_h, in_w);
    if (init_channels < 1)
        return a4nn_errorf(err, "bad init_channels %d (must be >= 1)", init_channels);
    if (n_classes < 2)
        return a4nn_errorf(err, "bad class count %d (must be >= 2)", n_classes);
    memset(arch, 0, sizeof *arch);
    arch->n_classes = n_classes;
    builder b = {arch, err, -1};
    int x = new_tensor(&b, in_c, in_h, in_w);
    int active = 0;
    for (int p = 0; p < g->n_phases; p++) {
        if (!a4nn_genome_phase_active(g, p))
            continue;
        if (active > 0 && (x = unary(&b, A4NN_OP_MAXPOOL, x)) < 0)
            return A4NN_ERR;
        b.phase = active;
        /* channels by position among active phases: C, 2C, 4C, ... */
        if ((x = build_phase(&b, g, p, x, init_channels << active, active)) < 0)
            return A4NN_ERR;
        b.phase = -1;
        active++;
    }
    arch->n_active_phases = active;
    if ((x = unary(&b, A4NN_OP_GAP, x)) < 0 ||
        (x = add_op(&b, A4NN_OP_LINEAR, &x, 1, n_classes, 0, 0, 1)) < 0)
        return A4NN_ERR;
    arch->output = x;
    return A4NN_OK;
}

const char *a4nn_op_name(a4nn_op_kind kind)
{
    switch (kind) {
    case A4NN_OP_CONV: return "conv";
    case A4NN_OP_BN: return "batchnorm";
    case A4NN_OP_RELU: return "relu";
    case A4NN_OP_CONCAT: return "concat";
    case A4NN_OP_MAXPOOL: return "maxpool";
    case A4NN_OP_GAP: return "avgpool";
    case A4NN_OP_LINEAR: return "linear";
    }
    return "?";
}

void a4nn_arch_print(const a4nn_arch *arch, FILE *out)
{
    fprintf(out, "%-4s %-5s %-12s %-10s %-16s %12s %10s\n", "#", "phase", "op", "inputs",
            "output (CxHxW)", "MFLOPs", "params");
    for (int i = 0; i < arch->n_ops; i++) {
        const a4nn_op *op = &arch->ops[i];
        char name[32], inputs[64], shape[64], ph[16];
        if (op->kind == A4NN_OP_CONV)
            snprintf(name, sizeof name, "conv%dx%d%s", op->kernel, op->kernel,
                     op->pad ? "" : " p0");
        else
            snprintf(name, sizeof name, "%s", a4nn_op_name(op->kind));
        int n = 0;
        inputs[0] = '\0';
        for (int j = 0; j < op->n_in && n < (int)sizeof inputs - 8; j++)
            n += snprintf(inputs + n, sizeof inputs - (size_t)n, "%s%%%d", j ? "," : "",
                          op->in[j]);
        const a4nn_shape *s = &arch->tensor[op->out];
        snprintf(shape, sizeof shape, "%%%d %dx%dx%d", op->out, s->c, s->h, s->w);
        if (op->phase >= 0)
            snprintf(ph, sizeof ph, "%d", op->phase + 1);
        else
            snprintf(ph, sizeof ph, "-");
        fprintf(out, "%-4d %-5s %-12s %-10s %-16s %12.4f %10ld\n", i, ph, name, inputs, shape,
                op->mflops, op->params);
    }
    fprintf(out, "total: %d active phases, %.4f MFLOPs, %ld parameters\n", arch->n_active_phases,
            arch->mflops, arch->params);
}
