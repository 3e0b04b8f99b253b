#%Module1.0
## Tcl (Environment Modules) modulefile for a4nn 0.1.0.
## `make install PREFIX=...` installs it as PREFIX/share/modulefiles/a4nn/0.1.0
## with @PREFIX@ replaced.
proc ModulesHelp { } {
    puts stderr "a4nn 0.1.0: MPI-distributed neural architecture search with"
    puts stderr "learning-curve prediction (PENGUIN) for XFEL diffraction data."
    puts stderr "  sbatch \$A4NN_JOBS/a4nn.sbatch CONFIG RUN_DIR"
}
module-whatis "a4nn 0.1.0: neural architecture search with learning-curve prediction (MPI, CUDA)"

set root "@PREFIX@"

# prerequisites: site module names in A4NN_PREREQS (space separated)
if { [info exists env(A4NN_PREREQS)] } {
    foreach m $env(A4NN_PREREQS) {
        if { ![is-loaded $m] } { module load $m }
    }
}
conflict a4nn

prepend-path PATH $root/bin
setenv A4NN_ROOT $root
setenv A4NN_JOBS $root/share/a4nn/jobs
setenv A4NN_JOBS_DIR $root/share/a4nn/jobs
setenv A4NN_CONFIG_DIR $root/share/a4nn/configs
