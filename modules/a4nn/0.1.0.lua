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

-- prerequisites: an MPI, HDF5 (parallel), GSL; CUDA for the GPU build. Site
-- module names differ: A4NN_PREREQS (space separated) overrides the list.
local prereqs = os.getenv("A4NN_PREREQS") or ""
for m in prereqs:gmatch("%S+") do
  if not isloaded(m) then load(m) end
end

prepend_path("PATH", pathJoin(root, "bin"))
setenv("A4NN_ROOT", root)
setenv("A4NN_JOBS", pathJoin(root, "share/a4nn/jobs"))
setenv("A4NN_JOBS_DIR", pathJoin(root, "share/a4nn/jobs"))
setenv("A4NN_CONFIG_DIR", pathJoin(root, "share/a4nn/configs"))
family("a4nn")
