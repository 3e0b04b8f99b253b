# Site file: a generic Slurm cluster with Open MPI and PMIx.
# Sourced by jobs/a4nn-job.sh (inside the job) and jobs/submit.sh (at submission).
A4NN_SITE_SBATCH_ARGS=""                  # e.g. "--partition=gpu" (--gpus=0 without GPUs)
A4NN_SITE_MODULES=""                      # modules to load before running, e.g. "a4nn"
A4NN_SITE_LAUNCHER=${A4NN_SITE_LAUNCHER:-srun}
A4NN_SITE_SRUN_ARGS=""
A4NN_SITE_MPIRUN_ARGS=""
