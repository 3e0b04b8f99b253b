/* gpu: GPU binding for workers and worker groups that train one candidate
 * together with data parallelism (gradients averaged by MPI_Allreduce on the
 * CPU backend, by NCCL on the CUDA backend). */
#ifndef A4NN_GPU_H
#define A4NN_GPU_H

#include <stddef.h>

#include <mpi.h>

#include "a4nn/nn.h"
#include "a4nn/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Number of visible GPUs (honours CUDA_VISIBLE_DEVICES); 0 in a build without
 * CUDA or when no GPU is usable. */
int a4nn_gpu_count(void);

/* Picks this rank's GPU from its node-local rank (MPI_Comm_split_type with
 * MPI_COMM_TYPE_SHARED over comm): device = local_rank % a4nn_gpu_count(),
 * among the GPUs CUDA_VISIBLE_DEVICES leaves visible to the rank. The ranks
 * of a node then compare the UUIDs of their choices: two ranks on one GPU is
 * an error unless share is nonzero (so per-rank binding, as Slurm's
 * --gpus-per-task gives, and one GPU per rank among all visible both work).
 * Collective over comm. */
int a4nn_gpu_select(MPI_Comm comm, int share, int *device, a4nn_error *err);

/* ---- worker groups -------------------------------------------------------- */

typedef enum {
    A4NN_GROUP_MPI = 0, /* MPI_Allreduce on host buffers (CPU backend) */
    A4NN_GROUP_NCCL = 1 /* ncclAllReduce on device buffers (CUDA backend) */
} a4nn_group_kind;

typedef struct a4nn_group a4nn_group;

/* Splits comm into consecutive groups of group_size ranks (the size of comm
 * must be a multiple of it). For NCCL each rank must already have chosen its
 * device (cudaSetDevice, e.g. by creating its cuda backend); the NCCL id is
 * broadcast over the group communicator. Collective over comm. */
a4nn_group *a4nn_group_create(MPI_Comm comm, int group_size, a4nn_group_kind kind,
                              a4nn_error *err);
void a4nn_group_free(a4nn_group *g);
int a4nn_group_rank(const a4nn_group *g);  /* rank inside the group */
int a4nn_group_size(const a4nn_group *g);
int a4nn_group_index(const a4nn_group *g); /* which group this rank is in */
MPI_Comm a4nn_group_comm(const a4nn_group *g);

/* Replaces buf (n floats in the backend's memory: host for MPI, device for
 * NCCL) by its mean over the group: a4nn_train_config.allreduce_mean. */
int a4nn_group_allreduce(float *buf, size_t n, void *group);
/* Replaces n host doubles by their sum over the group (MPI_Allreduce):
 * a4nn_train_config.allreduce_sum. */
int a4nn_group_sum(double *v, int n, void *group);

/* Fills the data-parallel fields of a training configuration. */
void a4nn_group_configure(a4nn_group *g, a4nn_train_config *cfg);

#ifdef __cplusplus
}
#endif

#endif
