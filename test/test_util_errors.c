/* The error contract's checked calls: A4NN_CHECK_MPI and A4NN_CHECK_H5 return
 * A4NN_ERR with the call, file:line and the library's own reason. */
#include "testutil.h"

#include <hdf5.h>
#include <mpi.h>

#include "a4nn/util.h"

static int bad_send(a4nn_error *err)
{
    int x = 1;
    A4NN_CHECK_MPI(MPI_Send(&x, 1, MPI_INT, 1 << 20, 7, MPI_COMM_WORLD));
    return A4NN_OK;
}

static int bad_open(a4nn_error *err)
{
    A4NN_CHECK_H5(H5Fopen("/nonexistent/a4nn.h5", H5F_ACC_RDONLY, H5P_DEFAULT));
    return A4NN_OK;
}

static void test_mpi_reason(void **state)
{
    a4nn_error err = {{0}};
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    assert_int_equal(bad_send(&err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "MPI_Send("));
    assert_non_null(strstr(err.msg, "test_util_errors.c:"));
    char reason[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(MPI_ERR_RANK, reason, &len);
    assert_non_null(strstr(err.msg, reason)); /* MPI's own words */
}

static void test_h5_reason(void **state)
{
    a4nn_error err = {{0}};
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* nothing printed; the stack is kept */
    assert_int_equal(bad_open(&err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "H5Fopen("));
    assert_non_null(strstr(err.msg, "test_util_errors.c:"));
    assert_null(strstr(err.msg, "no HDF5 error recorded"));
    assert_non_null(strstr(err.msg, "H5F")); /* the failing HDF5 function */
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mpi_reason),
        cmocka_unit_test(test_h5_reason),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    MPI_Finalize();
    return rc;
}
