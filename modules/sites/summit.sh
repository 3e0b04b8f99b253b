# Environment for building and running a4nn on a Summit-style machine
# (V100 GPUs, compute capability 7.0).
#   source modules/sites/summit.sh; make CUDA=1 CUDA_ARCH=70; make install PREFIX=$PROJWORK/sw/a4nn
module purge 2>/dev/null || true
module load gcc spectrum-mpi cuda hdf5 gsl openblas 2>/dev/null || echo "a4nn: some modules did not load; check 'module avail'" >&2
export A4NN_PREREQS="gcc spectrum-mpi cuda hdf5 gsl openblas"
# LSF, not Slurm: submit with `bsub jobs/summit.lsf CONFIG RUN_DIR` (no jobs/sites file)
# the Makefile's CUDA_ARCH defaults to A100/H100 (80 90); V100 here
export CUDA_ARCH=70
