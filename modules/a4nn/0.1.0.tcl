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

# prerequisites: this site's module names, fixed at install time (`make
# install` takes A4NN_PREREQS, which the site scripts modules/sites/*.sh export)
set prereqs "@PREREQS@"
foreach m $prereqs {
    if { ![is-loaded $m] } {
        if { [catch {module load $m}] } {
            error "a4nn: this site has no module '$m' (a4nn was installed for the modules\
                '$prereqs'); reinstall with make install A4NN_PREREQS='<this site's MPI, HDF5,\
                GSL and OpenBLAS modules>'"
        }
    }
}
conflict a4nn

prepend-path PATH $root/bin
setenv A4NN_ROOT $root
setenv A4NN_JOBS $root/share/a4nn/jobs
setenv A4NN_JOBS_DIR $root/share/a4nn/jobs
setenv A4NN_CONFIG_DIR $root/share/a4nn/configs
