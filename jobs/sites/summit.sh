# Site file: Summit-style machine: 6 V100 GPUs and 42 cores per node, project
# accounts, Spectrum MPI. Summit-class systems launch with jsrun (one
# resource set per worker: 1 rank, 1 GPU, 7 cores); under Slurm use srun.
# V100 GPUs: build with `make CUDA=1 CUDA_ARCH=70` (modules/sites/summit.sh).
# The batch scripts ask for --gpus-per-task=1 themselves.
A4NN_SITE_SBATCH_ARGS="--ntasks-per-node=6 --cpus-per-task=7 ${A4NN_ACCOUNT:+--account=$A4NN_ACCOUNT}"
A4NN_SITE_MODULES="gcc spectrum-mpi cuda hdf5 gsl a4nn"
A4NN_SITE_LAUNCHER=${A4NN_SITE_LAUNCHER:-srun}
A4NN_SITE_SRUN_ARGS="--gpus-per-task=1 --gpu-bind=closest"
A4NN_SITE_JSRUN_ARGS="-c 7 -g 1 -r 6 --bind=packed:7"
