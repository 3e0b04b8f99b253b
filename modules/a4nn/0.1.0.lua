-- Lmod modulefile for a4nn 0.1.0.
-- `make install PREFIX=...` installs it as PREFIX/share/modulefiles/a4nn/0.1.0.lua
-- with @PREFIX@ replaced; `module use PREFIX/share/modulefiles; module load a4nn`.
help([[
a4nn 0.1.0: MPI-distributed neural architecture search with learning-curve
prediction (PENGUIN) for XFEL diffraction data.

  mpirun -np N a4nn run $A4NN_ROOT/share/a4nn/configs/default.ini
  sbatch $A4NN_JOBS/a4nn.sbatch CONFIG RUN_DIR
  $A4NN_JOBS/submit.sh SITE $A4NN_JOBS/a4nn.sbatch CONFIG RUN_DIR
]])
whatis("Name: a4nn")
whatis("Version: 0.1.0")
whatis("Description: neural architecture search with learning-curve prediction (MPI, CUDA)")

local root = "@PREFIX@"

-- prerequisites: an MPI, HDF5 (parallel), GSL; CUDA for the GPU build, named
-- as this site names them. Fixed at install time (`make install` takes
-- A4NN_PREREQS, which the site scripts modules/sites/*.sh export).
local prereqs = "@PREREQS@"
for m in prereqs:gmatch("%S+") do
  if not isloaded(m) then
    if not isAvail(m) then
      LmodError("a4nn: this site has no module '" .. m .. "' (a4nn was installed for the " ..
                "modules '" .. prereqs .. "'); reinstall with make install " ..
                "A4NN_PREREQS='<this site's MPI, HDF5, GSL and OpenBLAS modules>'")
    end
    load(m)
  end
end

prepend_path("PATH", pathJoin(root, "bin"))
setenv("A4NN_ROOT", root)
setenv("A4NN_JOBS", pathJoin(root, "share/a4nn/jobs"))
setenv("A4NN_JOBS_DIR", pathJoin(root, "share/a4nn/jobs"))
setenv("A4NN_CONFIG_DIR", pathJoin(root, "share/a4nn/configs"))
family("a4nn")
