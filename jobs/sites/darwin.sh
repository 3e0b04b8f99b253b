# Site file: DARWIN-style cluster (University of Delaware): Slurm, GPU nodes
# in the gpu-v100 partition, an allocation-workgroup account, VALET or Lmod.
# V100 GPUs: build with `make CUDA=1 CUDA_ARCH=70` (modules/sites/darwin.sh).
# The batch scripts ask for one GPU per worker rank; a4nn-rank.sh binds them.
A4NN_SITE_SBATCH_ARGS="--partition=gpu-v100 --cpus-per-task=4 --mem-per-cpu=8G ${A4NN_ACCOUNT:+--account=$A4NN_ACCOUNT}"
A4NN_SITE_MODULES="openmpi/4.1 cuda/11.8 hdf5 gsl a4nn"
A4NN_SITE_LAUNCHER=${A4NN_SITE_LAUNCHER:-srun}
A4NN_SITE_SRUN_ARGS="--cpu-bind=cores"
A4NN_SITE_MPIRUN_ARGS="--map-by socket --bind-to core"
