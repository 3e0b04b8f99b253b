# Site file: the single-node test Slurm of test/slurm/up.sh: no GPUs, no
# modules, mpirun with oversubscription (2 cores, more ranks).
# --gpus=0 overrides the batch scripts' --gpus=2 (and the scaling study's
# --gpus=W): a cluster without gres/gpu rejects those at submission.
A4NN_SITE_SBATCH_ARGS="--gpus=0"
A4NN_SITE_MODULES=""
A4NN_SITE_LAUNCHER=${A4NN_SITE_LAUNCHER:-mpirun}
A4NN_SITE_MPIRUN_ARGS="--bind-to none"
# the test Slurm runs jobs as root: Open MPI asks for explicit consent
if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
