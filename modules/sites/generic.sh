# Environment for building and running a4nn on a generic Linux cluster with
# Lmod or Environment Modules; adjust the module names to the site's.
module load openmpi hdf5 gsl openblas 2>/dev/null || echo "a4nn: module load failed; set up MPI, HDF5 (parallel), GSL, OpenBLAS yourself" >&2
export A4NN_PREREQS="openmpi hdf5 gsl openblas"
export A4NN_SITE=generic
