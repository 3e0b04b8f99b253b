/* Checks for CUDA, cuDNN, cuBLAS and NCCL calls (internal to the CUDA code).
 *
 * The *_TRY forms are for functions that report errors: they fill `err` and
 * return `ret`. The *_CHECK forms are for backend entries, which return
 * nothing: a failing call there keeps the first failure,
 *   <call>: <error string> (file:line)
 * which the backend's status entry then reports (a4nn_backend_status), and
 * the entry goes on (later calls on a failed device fail as well). */
#ifndef A4NN_CUDA_CHECK_H
#define A4NN_CUDA_CHECK_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

/* keeps the first failure of the process's CUDA backends (backend_cuda.cu) */
void a4nn_cuda_fail(const char *call, const char *what, const char *file, int line);
#define A4NN_FAIL_(call, what) a4nn_cuda_fail(call, what, __FILE__, __LINE__)

#define CUDA_CHECK(call)                                                        \
    do {                                                                        \
        cudaError_t e_ = (call);                                                \
        if (e_ != cudaSuccess)                                                  \
            A4NN_FAIL_(#call, cudaGetErrorString(e_));                          \
    } while (0)
#define CUDNN_CHECK(call)                                                       \
    do {                                                                        \
        cudnnStatus_t e_ = (call);                                              \
        if (e_ != CUDNN_STATUS_SUCCESS)                                         \
            A4NN_FAIL_(#call, cudnnGetErrorString(e_));                         \
    } while (0)
#define CUBLAS_CHECK(call)                                                      \
    do {                                                                        \
        cublasStatus_t e_ = (call);                                             \
        if (e_ != CUBLAS_STATUS_SUCCESS)                                        \
            A4NN_FAIL_(#call, cublasGetStatusString(e_));                       \
    } while (0)
#define CUDA_KERNEL_CHECK() CUDA_CHECK(cudaGetLastError())

#define CUDA_TRY(call, err, ret)                                                \
    do {                                                                        \
        cudaError_t e_ = (call);                                                \
        if (e_ != cudaSuccess) {                                                \
            a4nn_errorf(err, "%s: %s (%s:%d)", #call, cudaGetErrorString(e_),   \
                        __FILE__, __LINE__);                                    \
            return ret;                                                         \
        }                                                                       \
    } while (0)
#define CUDNN_TRY(call, err, ret)                                               \
    do {                                                                        \
        cudnnStatus_t e_ = (call);                                              \
        if (e_ != CUDNN_STATUS_SUCCESS) {                                       \
            a4nn_errorf(err, "%s: %s (%s:%d)", #call, cudnnGetErrorString(e_),  \
                        __FILE__, __LINE__);                                    \
            return ret;                                                         \
        }                                                                       \
    } while (0)
#define CUBLAS_TRY(call, err, ret)                                              \
    do {                                                                        \
        cublasStatus_t e_ = (call);                                             \
        if (e_ != CUBLAS_STATUS_SUCCESS) {                                      \
            a4nn_errorf(err, "%s: %s (%s:%d)", #call, cublasGetStatusString(e_), \
                        __FILE__, __LINE__);                                    \
            return ret;                                                         \
        }                                                                       \
    } while (0)
#define NCCL_TRY(call, err, ret)                                                \
    do {                                                                        \
        ncclResult_t e_ = (call);                                               \
        if (e_ != ncclSuccess) {                                                \
            a4nn_errorf(err, "%s: %s (%s:%d)", #call, ncclGetErrorString(e_),   \
                        __FILE__, __LINE__);                                    \
            return ret;                                                         \
        }                                                                       \
    } while (0)

#endif
