/* GPU binding and worker groups. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a4nn/gpu.h"

#ifdef A4NN_CUDA
#include <cuda_runtime.h>
#include <nccl.h>
#endif

struct a4nn_group {
    MPI_Comm comm;
    int rank, size, index;
    a4nn_group_kind kind;
#ifdef A4NN_CUDA
    ncclComm_t nccl;
#endif
};

int a4nn_gpu_count(void)
{
#ifdef A4NN_CUDA
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    return n;
#else
    return 0;
#endif
}

enum { UUID_BYTES = 16 };

/* The UUIDs of the GPUs that the ranks of comm use, gathered to every rank
 * (UUID_BYTES each, rank order; all zero for a rank with device < 0 or whose
 * device cannot be queried). A malloc'd array, or NULL when MPI fails.
 * Collective over comm. */
static unsigned char *gather_uuids(MPI_Comm comm, int device)
{
    unsigned char uuid[UUID_BYTES] = {0};
#ifdef A4NN_CUDA
    struct cudaDeviceProp prop;
    if (device >= 0 && cudaGetDeviceProperties(&prop, device) == cudaSuccess)
        memcpy(uuid, prop.uuid.bytes, sizeof uuid);
    else
        cudaGetLastError();
#else
    (void)device;
#endif
    int size;
    MPI_Comm_size(comm, &size);
    unsigned char *all = a4nn_malloc((size_t)size * UUID_BYTES);
    if (MPI_Allgather(uuid, UUID_BYTES, MPI_BYTE, all, UUID_BYTES, MPI_BYTE, comm) !=
        MPI_SUCCESS) {
        free(all);
        return NULL;
    }
    return all;
}

static int uuid_is_zero(const unsigned char *u)
{
    static const unsigned char zero[UUID_BYTES];
    return !memcmp(u, zero, UUID_BYTES);
}

int a4nn_gpu_select(MPI_Comm comm, int share, int *device, a4nn_error *err)
{
    MPI_Comm node;
    int rank, lrank, lsize;
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS ||
        MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node) !=
            MPI_SUCCESS)
        return a4nn_errorf(err, "gpu select: MPI_Comm_split_type failed");
    MPI_Comm_rank(node, &lrank);
    MPI_Comm_size(node, &lsize);
    const int n = a4nn_gpu_count();
    /* every rank of the node takes part in the exchange, even one without a
     * GPU, so that none waits for it */
    unsigned char *all = gather_uuids(node, n > 0 ? lrank % n : -1);
    MPI_Comm_free(&node);
    if (!all)
        return a4nn_errorf(err, "gpu select: MPI exchange among the ranks of the node failed");
    const unsigned char *mine = all + (size_t)lrank * UUID_BYTES;
    const char *cvd = getenv("CUDA_VISIBLE_DEVICES");
    int same = 0, without = 0;
    for (int r = 0; r < lsize; r++) {
        same += !memcmp(all + (size_t)r * UUID_BYTES, mine, UUID_BYTES);
        without += uuid_is_zero(all + (size_t)r * UUID_BYTES);
    }
    const int ok = !uuid_is_zero(mine);
    free(all);
    if (!ok) {
#ifndef A4NN_CUDA
        return a4nn_errorf(err, "gpu select: no GPU is visible: this build has no CUDA backend "
                                "(rebuild with make CUDA=1)");
#endif
        return a4nn_errorf(err, "gpu select: no GPU is %s (CUDA_VISIBLE_DEVICES=%s)",
                           n > 0 ? "usable" : "visible", cvd ? cvd : "unset");
    }
    if (without)
        return a4nn_errorf(err, "gpu select: another rank on this node has no usable GPU");
    if (same > 1 && !share)
        return a4nn_errorf(err,
                           "gpu select: %d ranks on this node would share GPU %d (%d visible, "
                           "CUDA_VISIBLE_DEVICES=%s); give each rank its own GPU, or allow "
                           "sharing (worker.gpu_share = on)",
                           same, lrank % n, n, cvd ? cvd : "unset");
    *device = lrank % n;
    return A4NN_OK;
}

#ifdef A4NN_CUDA
/* NCCL cannot put two ranks of one communicator on one GPU: say so, rather
 * than let ncclCommInitRank fail with "invalid usage". Collective. */
static int group_uuids_distinct(const a4nn_group *g, a4nn_error *err)
{
    int dev = -1;
    if (cudaGetDevice(&dev) != cudaSuccess) {
        cudaGetLastError();
        dev = -1;
    }
    unsigned char *all = gather_uuids(g->comm, dev);
    if (!all)
        return a4nn_errorf(err, "worker group: MPI_Allgather of the GPU UUIDs failed");
    for (int a = 0; a < g->size; a++)
        for (int b = a + 1; b < g->size; b++)
            if (!memcmp(all + (size_t)a * UUID_BYTES, all + (size_t)b * UUID_BYTES,
                        UUID_BYTES)) {
                free(all);
                return a4nn_errorf(err, "worker group %d: its ranks %d and %d are on one GPU; "
                                        "NCCL needs a GPU of its own for every rank of a group "
                                        "(fewer workers per node, or worker.group_size = 1 "
                                        "with worker.gpu_share)",
                                   g->index, a, b);
            }
    free(all);
    return A4NN_OK;
}
#endif

a4nn_group *a4nn_group_create(MPI_Comm comm, int group_size, a4nn_group_kind kind,
                              a4nn_error *err)
{
    int rank, size;
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS || MPI_Comm_size(comm, &size) != MPI_SUCCESS)
        return a4nn_errorf(err, "worker group: bad communicator"), NULL;
    if (group_size < 1 || size % group_size)
        return a4nn_errorf(err, "worker group: %d ranks cannot form groups of %d", size,
                           group_size),
               NULL;
#ifndef A4NN_CUDA
    if (kind == A4NN_GROUP_NCCL)
        return a4nn_errorf(err, "worker group: NCCL needs a build with CUDA"), NULL;
#endif
    a4nn_group *g = a4nn_calloc(1, sizeof *g);
    g->kind = kind;
    g->index = rank / group_size;
    if (MPI_Comm_split(comm, g->index, rank, &g->comm) != MPI_SUCCESS) {
        free(g);
        return a4nn_errorf(err, "worker group: MPI_Comm_split failed"), NULL;
    }
    MPI_Comm_rank(g->comm, &g->rank);
    MPI_Comm_size(g->comm, &g->size);
#ifdef A4NN_CUDA
    if (kind == A4NN_GROUP_NCCL && group_uuids_distinct(g, err) != A4NN_OK) {
        MPI_Comm_free(&g->comm);
        free(g);
        return NULL;
    }
    if (kind == A4NN_GROUP_NCCL) {
        ncclUniqueId id;
        ncclResult_t r = ncclSuccess;
        if (g->rank == 0)
            r = ncclGetUniqueId(&id);
        int ok = r == ncclSuccess;
        MPI_Bcast(&ok, 1, MPI_INT, 0, g->comm);
        if (!ok) {
            MPI_Comm_free(&g->comm);
            free(g);
            return a4nn_errorf(err, "worker group: ncclGetUniqueId: %s",
                               r != ncclSuccess ? ncclGetErrorString(r) : "failed on rank 0"),
                   NULL;
        }
        MPI_Bcast(&id, (int)sizeof id, MPI_BYTE, 0, g->comm);
        r = ncclCommInitRank(&g->nccl, g->size, id, g->rank);
        if (r != ncclSuccess) {
            MPI_Comm_free(&g->comm);
            free(g);
            return a4nn_errorf(err, "worker group: ncclCommInitRank: %s", ncclGetErrorString(r)),
                   NULL;
        }
    }
#endif
    return g;
}

void a4nn_group_free(a4nn_group *g)
{
    if (!g)
        return;
#ifdef A4NN_CUDA
    if (g->kind == A4NN_GROUP_NCCL && g->nccl)
        ncclCommDestroy(g->nccl);
#endif
    MPI_Comm_free(&g->comm);
    free(g);
}

int a4nn_group_rank(const a4nn_group *g) { return g->rank; }
int a4nn_group_size(const a4nn_group *g) { return g->size; }
int a4nn_group_index(const a4nn_group *g) { return g->index; }
MPI_Comm a4nn_group_comm(const a4nn_group *g) { return g->comm; }

int a4nn_group_allreduce(float *buf, size_t n, void *vg)
{
    a4nn_group *g = vg;
    if (g->size == 1)
        return A4NN_OK;
#ifdef A4NN_CUDA
    if (g->kind == A4NN_GROUP_NCCL) {
        /* on the legacy default stream, ordered with the cuda backend's work */
        ncclResult_t r = ncclAllReduce(buf, buf, n, ncclFloat, ncclAvg, g->nccl, 0);
        if (r != ncclSuccess) {
            fprintf(stderr, "a4nn: worker group %d: ncclAllReduce: %s\n", g->index,
                    ncclGetErrorString(r));
            return A4NN_ERR;
        }
        return A4NN_OK;
    }
#endif
    /* MPI counts are int: reduce in chunks */
    const size_t chunk = (size_t)1 << 30;
    for (size_t off = 0; off < n; off += chunk) {
        int cnt = (int)(n - off < chunk ? n - off : chunk);
        if (MPI_Allreduce(MPI_IN_PLACE, buf + off, cnt, MPI_FLOAT, MPI_SUM, g->comm) !=
            MPI_SUCCESS)
            return A4NN_ERR;
    }
    const float s = 1.0f / (float)g->size;
    for (size_t i = 0; i < n; i++)
        buf[i] *= s;
    return A4NN_OK;
}

int a4nn_group_sum(double *v, int n, void *vg)
{
    a4nn_group *g = vg;
    if (g->size == 1 || n < 1)
        return A4NN_OK;
    return MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, g->comm) == MPI_SUCCESS
               ? A4NN_OK
               : A4NN_ERR;
}

void a4nn_group_configure(a4nn_group *g, a4nn_train_config *cfg)
{
    cfg->allreduce_mean = a4nn_group_allreduce;
    cfg->allreduce_sum = a4nn_group_sum;
    cfg->allreduce_ctx = g;
    cfg->group_rank = g->rank;
    cfg->group_size = g->size;
}
