/* A network built from a decoded genome: one layer per a4nn_op, all buffers
 * allocated once on the backend, parameters and gradients each contiguous. */
#include <math.h>
#include <string.h>

#include "a4nn/nn.h"

typedef struct {
    size_t w, b;          /* offsets into params/grads (b: SIZE_MAX when none) */
    size_t rmean, rvar;   /* BN: offsets into the buffers array */
    float *save_mean, *save_invstd; /* BN: batch statistics of the last forward */
    /* a fused BN whose input a convolution alone writes, on a backend with
     * conv_forward_stats: the batch mean and variance the convolution
     * computes for it in training ([2c], host) */
    double *stats;
    int stats_of; /* a convolution: the BN layer it computes them for, or -1 */
    /* a convolution whose output only a fused BN reads, on a backend with
     * conv_bn_relu_backward: that BN's op (else -1), and in the backward
     * the ReLU's gradient it left for the convolution to take (NULL when
     * none flowed) */
    int bn_of;
    const float *bn_dz;
    size_t bn_dzs;
    int conv_of; /* that BN: the convolution that runs its backward, or -1 */
} layer;

struct a4nn_net {
    a4nn_arch arch;
    a4nn_backend *be;
    int max_batch;
    layer *layers;       /* [n_ops] */
    float **value;       /* [n_tensors] activations, value[0] = input (borrowed) */
    float **grad;        /* [n_tensors] gradients; tensors whose gradients are never
                            live together share a buffer */
    int *last_use;       /* [n_tensors] the last op that reads the tensor, or -1 */
    int n_grad_bufs;
    float **grad_bufs;   /* the distinct gradient buffers, owned */
    size_t *tsize;       /* floats per image of each tensor */
    float *params, *grads, *buffers;
    size_t n_params, n_buffers;
    int last_batch;
    /* fused[i]: op i is a BatchNorm whose only consumer is the ReLU op i + 1,
     * run as one backend entry; the BatchNorm output is never stored */
    unsigned char *fused;
    unsigned char *elided; /* [n_tensors] such BatchNorm outputs */
    /* [n_tensors] inputs that a fused BatchNorm, a max pooling or a
     * convolution alone reads: its backward overwrites their gradient,
     * which so needs no zeroing */
    unsigned char *overwritten;
    /* [n_tensors] -1, or the concatenation whose channel slice from
     * view_off[t] on holds tensor t (its value and its gradient): the
     * output of a fused BatchNorm + ReLU that only that concatenation
     * reads, written and read in place there instead of copied */
    int *view_of;
    int *view_off;
    /* [n_tensors] convolution outputs whose gradient is never stored (the
     * BatchNorm + ReLU after them runs inside the convolution's backward) */
    unsigned char *no_grad;
};

static const float BN_MOMENTUM = 0.1f, BN_EPS = 1e-5f;

/* Tensor t in buf (net->value or net->grad): its own buffer, or its slice
 * of the concatenation it is a view of (NULL when that has no buffer);
 * *stride: the floats from one image of it to the next. */
static float *view(const a4nn_net *net, float **buf, int t, int hw, size_t *stride)
{
    const int v = net->view_of[t];
    if (v < 0) {
        *stride = net->tsize[t];
        return buf[t];
    }
    *stride = net->tsize[v];
    return buf[v] ? buf[v] + (size_t)net->view_off[t] * hw : NULL;
}

static a4nn_conv_desc conv_desc(const a4nn_net *net, const a4nn_op *op, int batch)
{
    const a4nn_shape *x = &net->arch.tensor[op->in[0]], *y = &net->arch.tensor[op->out];
    return (a4nn_conv_desc){batch, x->c, x->h, x->w, y->c, y->h, y->w, op->kernel, op->pad,
                            op->bias};
}

/* Gradient buffers by liveness. Backward runs the ops in reverse: the
 * gradient of tensor t is live from the backward of its last consumer (which
 * zeroes it first, a4nn_net_backward) to the backward of its producer, after
 * which its buffer can serve another tensor. Buffers are handed out best-fit from a
 * free list, so peak gradient memory is a few layers, not the whole network. */
static void plan_gradients(a4nn_net *net)
{
    const a4nn_arch *a = &net->arch;
    a4nn_backend *be = net->be;
    int *last_use = net->last_use = a4nn_calloc((size_t)a->n_tensors, sizeof(int));
    for (int t = 0; t < a->n_tensors; t++)
        last_use[t] = -1;
    for (int i = 0; i < a->n_ops; i++)
        for (int j = 0; j < a->ops[i].n_in; j++)
            last_use[a->ops[i].in[j]] = i;
    size_t *cap = a4nn_calloc((size_t)a->n_tensors, sizeof(size_t));
    int *free_list = a4nn_calloc((size_t)a->n_tensors, sizeof(int)), n_free = 0;
    int *buf_of = a4nn_calloc((size_t)a->n_tensors, sizeof(int));
    /* the op whose backward ends the gradient of each tensor: its producer
     * (a fused pair: the BatchNorm, or the convolution that runs the pair's
     * backward), or for a concatenation with views the
     * first of the views' producers, which read their slices of it later */
    int *release = a4nn_calloc((size_t)a->n_tensors, sizeof(int));
    for (int t = 0; t < a->n_tensors; t++)
        release[t] = -1;
    for (int i = 0; i < a->n_ops; i++) {
        const int pair = i > 0 && net->fused[i - 1];
        release[a->ops[i].out] = pair ? i - 1 : i;
        /* a pair whose backward the convolution before it runs: then */
        if (pair && net->layers[i - 1].conv_of >= 0)
            release[a->ops[i].out] = net->layers[i - 1].conv_of;
    }
    for (int t = 0; t < a->n_tensors; t++)
        if (net->view_of[t] >= 0 && release[t] < release[net->view_of[t]])
            release[net->view_of[t]] = release[t];
    net->grad_bufs = a4nn_calloc((size_t)a->n_tensors, sizeof(float *));
    for (int i = a->n_ops - 1; i >= 0; i--) {
        /* inputs whose last consumer is op i become live now */
        for (int j = 0; j < a->ops[i].n_in; j++) {
            int t = a->ops[i].in[j];
            if (t == 0 || last_use[t] != i || net->grad[t] || net->elided[t] ||
                net->view_of[t] >= 0 || net->no_grad[t])
                continue;
            size_t need = net->tsize[t] * (size_t)net->max_batch;
            int best = -1;
            for (int f = 0; f < n_free; f++)
                if (cap[free_list[f]] >= need && (best < 0 || cap[free_list[f]] < cap[free_list[best]]))
                    best = f;
            int b;
            if (best >= 0) {
                b = free_list[best];
                free_list[best] = free_list[--n_free];
            } else {
                b = net->n_grad_bufs++;
                cap[b] = need;
                net->grad_bufs[b] = be->alloc(be->ctx, need);
                if (net->grad_bufs[b])
                    be->zero(be->ctx, net->grad_bufs[b], need);
            }
            buf_of[t] = b;
            net->grad[t] = net->grad_bufs[b];
        }
        /* gradients that die with op i's backward go back to the free list */
        for (int t = 1; t < a->n_tensors; t++)
            if (release[t] == i && t != a->output && net->grad[t] && net->view_of[t] < 0)
                free_list[n_free++] = buf_of[t];
    }
    free(cap), free(free_list), free(buf_of), free(release);
}

static int producer(const a4nn_arch *a, int t)
{
    for (int i = 0; i < a->n_ops; i++)
        if (a->ops[i].out == t)
            return i;
    return -1;
}

/* Marks BatchNorm + ReLU pairs the backend can run fused, and the views
 * of their outputs into concatenations (view_of). */
static void plan_fusion(a4nn_net *net)
{
    const a4nn_arch *a = &net->arch;
    net->fused = a4nn_calloc((size_t)a->n_ops, 1);
    net->elided = a4nn_calloc((size_t)a->n_tensors, 1);
    net->overwritten = a4nn_calloc((size_t)a->n_tensors, 1);
    net->view_of = a4nn_calloc((size_t)a->n_tensors, sizeof(int));
    net->view_off = a4nn_calloc((size_t)a->n_tensors, sizeof(int));
    net->no_grad = a4nn_calloc((size_t)a->n_tensors, 1);
    for (int t = 0; t < a->n_tensors; t++)
        net->view_of[t] = -1;
    int *uses = a4nn_calloc((size_t)a->n_tensors, sizeof(int));
    for (int i = 0; i < a->n_ops; i++)
        for (int j = 0; j < a->ops[i].n_in; j++)
            uses[a->ops[i].in[j]]++;
    for (int i = 0; i < a->n_ops; i++)
        if ((a->ops[i].kind == A4NN_OP_MAXPOOL || a->ops[i].kind == A4NN_OP_CONV) &&
            a->ops[i].in[0] != 0)
            net->overwritten[a->ops[i].in[0]] = uses[a->ops[i].in[0]] == 1;
    if (!net->be->bn_relu_forward || !net->be->bn_relu_backward) {
        free(uses);
        return;
    }
    for (int i = 0; i + 1 < a->n_ops; i++) {
        const a4nn_op *bn = &a->ops[i], *relu = &a->ops[i + 1];
        if (bn->kind == A4NN_OP_BN && relu->kind == A4NN_OP_RELU && relu->in[0] == bn->out &&
            uses[bn->out] == 1 && bn->out != a->output) {
            net->fused[i] = 1;
            net->elided[bn->out] = 1;
            net->overwritten[bn->in[0]] = uses[bn->in[0]] == 1;
        }
    }
    /* a fused BN whose input a convolution alone writes: its statistics
     * from the convolution (a host-memory entry, CPU only), and its
     * backward inside the convolution's, where the backend offers them */
    for (int i = 0; i < a->n_ops; i++) {
        const int t = a->ops[i].in[0], p = net->fused[i] && t > 0 ? producer(a, t) : -1;
        if (p < 0 || a->ops[p].kind != A4NN_OP_CONV || uses[t] != 1)
            continue;
        if (net->be->conv_forward_stats) {
            net->layers[p].stats_of = i;
            net->layers[i].stats = a4nn_calloc(2 * (size_t)a->tensor[t].c, sizeof(double));
        }
        if (net->be->conv_bn_relu_backward) {
            net->layers[p].bn_of = i;
            net->layers[i].conv_of = p;
            net->no_grad[t] = 1;
        }
    }
    for (int i = 0; i < a->n_ops; i++) {
        const a4nn_op *op = &a->ops[i];
        if (op->kind != A4NN_OP_CONCAT || op->out == a->output)
            continue;
        for (int j = 0, off = 0; j < op->n_in; j++) {
            const int t = op->in[j], p = t > 0 ? producer(a, t) : -1;
            if (p > 0 && net->fused[p - 1] && uses[t] == 1 && t != a->output) {
                net->view_of[t] = op->out;
                net->view_off[t] = off;
            }
            off += a->tensor[t].c;
        }
    }
    free(uses);
}

static int all_allocated(const a4nn_net *net)
{
    for (int t = 1; t < net->arch.n_tensors; t++)
        if (!net->value[t] && !net->elided[t] && net->view_of[t] < 0)
            return 0;
    for (int b = 0; b < net->n_grad_bufs; b++)
        if (!net->grad_bufs[b])
            return 0;
    for (int i = 0; i < net->arch.n_ops; i++)
        if (net->arch.ops[i].kind == A4NN_OP_BN &&
            (!net->layers[i].save_mean || !net->layers[i].save_invstd))
            return 0;
    return net->params && net->grads && net->buffers;
}

a4nn_net *a4nn_net_alloc(const a4nn_arch *arch, int max_batch, a4nn_backend *be, uint64_t seed,
                         a4nn_error *err)
{
    if (max_batch < 1)
        return a4nn_errorf(err, "bad batch size %d", max_batch), NULL;
    a4nn_net *net = a4nn_calloc(1, sizeof *net);
    net->arch = *arch;
    net->be = be;
    net->max_batch = max_batch;
    const a4nn_arch *a = &net->arch;
    net->layers = a4nn_calloc((size_t)a->n_ops, sizeof(layer));
    net->value = a4nn_calloc((size_t)a->n_tensors, sizeof(float *));
    net->grad = a4nn_calloc((size_t)a->n_tensors, sizeof(float *));
    net->tsize = a4nn_calloc((size_t)a->n_tensors, sizeof(size_t));
    for (int t = 0; t < a->n_tensors; t++)
        net->tsize[t] = (size_t)a->tensor[t].c * a->tensor[t].h * a->tensor[t].w;

    /* lay out parameters and BN buffers */
    size_t np = 0, nb = 0;
    for (int i = 0; i < a->n_ops; i++) {
        const a4nn_op *op = &a->ops[i];
        layer *l = &net->layers[i];
        l->b = SIZE_MAX;
        l->stats_of = l->bn_of = l->conv_of = -1;
        const int cin = a->tensor[op->in[0]].c, cout = a->tensor[op->out].c;
        if (op->kind == A4NN_OP_CONV) {
            l->w = np;
            np += (size_t)cout * cin * op->kernel * op->kernel;
            if (op->bias)
                l->b = np, np += (size_t)cout;
        } else if (op->kind == A4NN_OP_LINEAR) {
            l->w = np;
            np += (size_t)cout * net->tsize[op->in[0]];
            l->b = np;
            np += (size_t)cout;
        } else if (op->kind == A4NN_OP_BN) {
            l->w = np;
            l->b = np + (size_t)cin;
            np += 2 * (size_t)cin;
            l->rmean = nb;
            l->rvar = nb + (size_t)cin;
            nb += 2 * (size_t)cin;
            l->save_mean = be->alloc(be->ctx, (size_t)cin);
            l->save_invstd = be->alloc(be->ctx, (size_t)cin);
        }
    }
    net->n_params = np;
    net->n_buffers = nb;
    if ((long)np != a->params) {
        a4nn_net_free(net);
        return a4nn_errorf(err, "internal: %zu parameters laid out, %ld counted", np, a->params),
               NULL;
    }
    for (int i = 0; i < a->n_ops; i++)
        if (a->ops[i].kind == A4NN_OP_BN && a->ops[i].in[0] == 0) {
            a4nn_net_free(net); /* its backward would need the input's gradient */
            return a4nn_errorf(err, "network has BatchNorm directly on its input"), NULL;
        }

    /* activations; the input tensor is borrowed at forward time */
    plan_fusion(net);
    for (int t = 1; t < a->n_tensors; t++)
        if (!net->elided[t] && net->view_of[t] < 0)
            net->value[t] = be->alloc(be->ctx, net->tsize[t] * (size_t)max_batch);
    plan_gradients(net);
    net->params = be->alloc(be->ctx, np);
    net->grads = be->alloc(be->ctx, np);
    net->buffers = be->alloc(be->ctx, nb);
    if (!all_allocated(net)) {
        a4nn_error why = {""}; /* the backend's reason, when it has one */
        a4nn_backend_status(be, &why);
        long params = arch->params;
        a4nn_net_free(net);
        return a4nn_errorf(err, "out of %s memory for a network of %ld parameters, batch %d%s%s",
                           be->name, params, max_batch, why.msg[0] ? ": " : "", why.msg),
               NULL;
    }
    be->zero(be->ctx, net->grads, np);

    /* seeded initialisation on the host, then one upload */
    float *hp = a4nn_calloc(np ? np : 1, sizeof(float));
    float *hb = a4nn_calloc(nb ? nb : 1, sizeof(float));
    a4nn_rng rng;
    a4nn_rng_seed(&rng, a4nn_seed_mix(seed, 0x6e6574 /* "net" */));
    for (int i = 0; i < a->n_ops; i++) {
        const a4nn_op *op = &a->ops[i];
        const layer *l = &net->layers[i];
        const int cin = a->tensor[op->in[0]].c, cout = a->tensor[op->out].c;
        if (op->kind == A4NN_OP_CONV || op->kind == A4NN_OP_LINEAR) {
            size_t fan_in = op->kind == A4NN_OP_CONV
                                ? (size_t)cin * op->kernel * op->kernel
                                : net->tsize[op->in[0]];
            double std = sqrt(2.0 / (double)fan_in);
            size_t nw = (size_t)cout * fan_in;
            for (size_t j = 0; j < nw; j++)
                hp[l->w + j] = (float)(std * a4nn_rng_normal(&rng));
        } else if (op->kind == A4NN_OP_BN) {
            for (int c = 0; c < cin; c++) {
                hp[l->w + c] = 1.0f;
                hb[l->rvar + c] = 1.0f;
            }
        }
    }
    be->upload(be->ctx, net->params, hp, np);
    be->upload(be->ctx, net->buffers, hb, nb);
    free(hp);
    free(hb);
    return net;
}

void a4nn_net_free(a4nn_net *net)
{
    if (!net)
        return;
    a4nn_backend *be = net->be;
    for (int t = 1; t < net->arch.n_tensors; t++) {
        if (net->value[t])
            be->free(be->ctx, net->value[t]);
    }
    for (int b = 0; b < net->n_grad_bufs; b++)
        be->free(be->ctx, net->grad_bufs[b]);
    free(net->grad_bufs);
    for (int i = 0; i < net->arch.n_ops; i++) {
        if (net->layers[i].save_mean)
            be->free(be->ctx, net->layers[i].save_mean);
        if (net->layers[i].save_invstd)
            be->free(be->ctx, net->layers[i].save_invstd);
        free(net->layers[i].stats);
    }
    if (net->params)
        be->free(be->ctx, net->params);
    if (net->grads)
        be->free(be->ctx, net->grads);
    if (net->buffers)
        be->free(be->ctx, net->buffers);
    free(net->layers);
    free(net->fused);
    free(net->elided);
    free(net->overwritten);
    free(net->view_of);
    free(net->view_off);
    free(net->no_grad);
    free(net->last_use);
    free(net->value);
    free(net->grad);
    free(net->tsize);
    free(net);
}

const float *a4nn_net_forward(a4nn_net *net, const float *x, int batch, int train,
                              a4nn_error *err)
{
    a4nn_backend *be = net->be;
    void *c = be->ctx;
    const a4nn_arch *a = &net->arch;
    if (batch < 1 || batch > net->max_batch)
        return a4nn_errorf(err, "forward: batch %d outside the network's 1..%d", batch,
                           net->max_batch),
               NULL;
    net->value[0] = (float *)x;
    net->last_batch = batch;
    float *P = net->params;
    for (int i = 0; i < a->n_ops; i++) {
        const a4nn_op *op = &a->ops[i];
        const layer *l = &net->layers[i];
        const a4nn_shape *xs = &a->tensor[op->in[0]];
        const float *in = net->value[op->in[0]];
        float *out = net->value[op->out];
        const int hw = xs->h * xs->w;
        switch (op->kind) {
        case A4NN_OP_CONV: {
            a4nn_conv_desc d = conv_desc(net, op, batch);
            if (train && l->stats_of >= 0)
                be->conv_forward_stats(c, &d, in, P + l->w, op->bias ? P + l->b : NULL, out,
                                       net->layers[l->stats_of].stats);
            else
                be->conv_forward(c, &d, in, P + l->w, op->bias ? P + l->b : NULL, out);
            break;
        }
        case A4NN_OP_BN:
            if (net->fused[i]) { /* writes the ReLU's output; op i + 1 is done */
                size_t ys;
                float *y = view(net, net->value, a->ops[i + 1].out, hw, &ys);
                be->bn_relu_forward(c, batch, xs->c, hw, in, P + l->w, P + l->b,
                                    net->buffers + l->rmean, net->buffers + l->rvar,
                                    l->save_mean, l->save_invstd, y, ys, train, BN_MOMENTUM,
                                    BN_EPS, train ? l->stats : NULL);
                i++;
                break;
            }
            be->bn_forward(c, batch, xs->c, hw, in, P + l->w, P + l->b,
                           net->buffers + l->rmean, net->buffers + l->rvar, l->save_mean,
                           l->save_invstd, out, train, BN_MOMENTUM, BN_EPS);
            break;
        case A4NN_OP_RELU:
            be->relu_forward(c, net->tsize[op->out] * (size_t)batch, in, out);
            break;
        case A4NN_OP_CONCAT: {
            const int cdst = a->tensor[op->out].c;
            for (int j = 0, off = 0; j < op->n_in; j++) {
                const int cs = a->tensor[op->in[j]].c;
                if (net->view_of[op->in[j]] < 0) /* views are in place already */
                    be->concat_forward(c, batch, cs, cdst, off, hw, net->value[op->in[j]], out);
                off += cs;
            }
            break;
        }
        case A4NN_OP_MAXPOOL:
            be->maxpool_forward(c, batch, xs->c, xs->h, xs->w, in, out);
            break;
        case A4NN_OP_GAP:
            be->gap_forward(c, batch, xs->c, hw, in, out);
            break;
        case A4NN_OP_LINEAR:
            be->linear_forward(c, batch, (int)net->tsize[op->in[0]], a->tensor[op->out].c, in,
                               P + l->w, P + l->b, out);
            break;
        }
    }
    if (a4nn_backend_status(be, err) != A4NN_OK)
        return NULL;
    return net->value[a->output];
}

/* Op i's backward is the first to write the gradients of the inputs it is
 * the last consumer of: they start from zero, except those it overwrites. */
static void clear_input_grads(a4nn_net *net, int i, int batch)
{
    const a4nn_op *op = &net->arch.ops[i];
    for (int j = 0; j < op->n_in; j++) {
        const int t = op->in[j];
        if (t != 0 && net->grad[t] && net->last_use[t] == i && !net->overwritten[t])
            net->be->zero(net->be->ctx, net->grad[t], net->tsize[t] * (size_t)batch);
    }
}

int a4nn_net_backward(a4nn_net *net, const float *dlogits, int batch, a4nn_error *err)
{
    a4nn_backend *be = net->be;
    void *c = be->ctx;
    const a4nn_arch *a = &net->arch;
    if (batch != net->last_batch)
        return a4nn_errorf(err, "backward: batch %d, but the last forward pass had %d", batch,
                           net->last_batch);
    float *P = net->params, *G = net->grads;
    for (int i = a->n_ops - 1; i >= 0; i--) {
        const a4nn_op *op = &a->ops[i];
        const layer *l = &net->layers[i];
        const a4nn_shape *xs = &a->tensor[op->in[0]];
        const float *in = net->value[op->in[0]];
        if (i > 0 && net->fused[i - 1]) { /* BatchNorm + ReLU, from the ReLU's gradient */
            const int r = op->out, hw0 = xs->h * xs->w;
            size_t drs = net->tsize[r];
            const float *dr = r == a->output ? dlogits : view(net, net->grad, r, hw0, &drs);
            i--;
            op = &a->ops[i];
            l = &net->layers[i];
            const int t = op->in[0];
            if (net->no_grad[t]) { /* the convolution that wrote t runs it */
                net->layers[l->conv_of].bn_dz = dr;
                net->layers[l->conv_of].bn_dzs = drs;
                continue;
            }
            clear_input_grads(net, i, batch);
            if (dr)
                be->bn_relu_backward(c, batch, xs->c, hw0, net->value[t], dr, drs,
                                     P + l->w, P + l->b, l->save_mean, l->save_invstd,
                                     net->grad[t], G + l->w, G + l->b, !net->overwritten[t]);
            else if (net->overwritten[t] && net->grad[t]) /* nothing flows back */
                be->zero(c, net->grad[t], net->tsize[t] * (size_t)batch);
            continue;
        }
        clear_input_grads(net, i, batch);
        if (l->bn_of >= 0 && l->bn_dz) { /* with the BatchNorm + ReLU after it */
            const layer *bl = &net->layers[l->bn_of];
            a4nn_conv_desc d = conv_desc(net, op, batch);
            float *dx = op->in[0] == 0 ? NULL : net->grad[op->in[0]];
            be->conv_bn_relu_backward(c, &d, in, P + l->w, net->value[op->out], l->bn_dz,
                                      l->bn_dzs, P + bl->w, P + bl->b, bl->save_mean,
                                      bl->save_invstd, G + bl->w, G + bl->b, dx, G + l->w,
                                      op->bias ? G + l->b : NULL, !net->overwritten[op->in[0]]);
            continue;
        }
        const float *dy = op->out == a->output ? dlogits : net->grad[op->out];
        if (!dy) { /* an output nothing consumes: no gradient flows through it */
            if (op->in[0] != 0 && net->overwritten[op->in[0]] && net->grad[op->in[0]])
                be->zero(c, net->grad[op->in[0]], net->tsize[op->in[0]] * (size_t)batch);
            continue;
        }
        /* the network input needs no gradient */
        float *dx = op->in[0] == 0 ? NULL : net->grad[op->in[0]];
        const int hw = xs->h * xs->w;
        switch (op->kind) {
        case A4NN_OP_CONV: {
            a4nn_conv_desc d = conv_desc(net, op, batch);
            be->conv_backward(c, &d, in, P + l->w, dy, dx, G + l->w,
                              op->bias ? G + l->b : NULL, !net->overwritten[op->in[0]]);
            break;
        }
        case A4NN_OP_BN: {
            /* inputs of BN are never the raw image in decoded networks
             * (a4nn_net_alloc refuses such a network) */
            be->bn_backward(c, batch, xs->c, hw, in, dy, P + l->w, l->save_mean,
                            l->save_invstd, dx, G + l->w, G + l->b);
            break;
        }
        case A4NN_OP_RELU:
            if (dx)
                be->relu_backward(c, net->tsize[op->out] * (size_t)batch, net->value[op->out], dy,
                                  dx);
            break;
        case A4NN_OP_CONCAT: {
            const int cdst = a->tensor[op->out].c;
            for (int j = 0, off = 0; j < op->n_in; j++) {
                const int cs = a->tensor[op->in[j]].c;
                if (op->in[j] != 0 && net->view_of[op->in[j]] < 0)
                    be->concat_backward(c, batch, cs, cdst, off, hw, dy, net->grad[op->in[j]]);
                off += cs;
            }
            break;
        }
        case A4NN_OP_MAXPOOL:
            if (dx)
                be->maxpool_backward(c, batch, xs->c, xs->h, xs->w, in, dy, dx,
                                     !net->overwritten[op->in[0]]);
            break;
        case A4NN_OP_GAP:
            if (dx)
                be->gap_backward(c, batch, xs->c, hw, dy, dx);
            break;
        case A4NN_OP_LINEAR:
            be->linear_backward(c, batch, (int)net->tsize[op->in[0]], a->tensor[op->out].c, in,
                                P + l->w, dy, dx, G + l->w, G + l->b);
            break;
        }
    }
    return a4nn_backend_status(be, err);
}

size_t a4nn_net_param_count(const a4nn_net *net) { return net->n_params; }
float *a4nn_net_params(a4nn_net *net) { return net->params; }
float *a4nn_net_grads(a4nn_net *net) { return net->grads; }
size_t a4nn_net_buffer_count(const a4nn_net *net) { return net->n_buffers; }
float *a4nn_net_buffers(a4nn_net *net) { return net->buffers; }
a4nn_backend *a4nn_net_backend(a4nn_net *net) { return net->be; }
const a4nn_arch *a4nn_net_arch(const a4nn_net *net) { return &net->arch; }
