# Spack package recipe for a4nn.
#   spack repo add packaging/spack   (a repo.yaml with `namespace: a4nn` sits beside it)
#   spack install a4nn            CPU build
#   spack install a4nn +cuda      with the CUDA backend (cuDNN, cuBLAS, NCCL)
#   cd <checkout> && spack dev-build a4nn@main    build this source tree
# `git` below names the upstream repository; point it at your mirror if needed.
from spack.package import *


class A4nn(MakefilePackage, CudaPackage):
    """MPI-distributed neural architecture search with learning-curve
    prediction (PENGUIN) for XFEL diffraction data: NSGA-II over the NSGA-Net
    macro space, workers training on CPU or one GPU each, analytics ranks
    predicting final accuracy and stopping training early."""

    homepage = "https://github.com/TauferLab/A4NN"
    git = "https://github.com/TauferLab/A4NN.git"

    license("Apache-2.0")

    version("main", branch="main")
    version("0.1.0", branch="main")

    variant("openmp", default=True, description="OpenMP threads in the CPU backend")

    depends_on("c", type="build")
    depends_on("gmake", type="build")
    depends_on("pkgconfig", type="build")
    depends_on("mpi")
    depends_on("hdf5+mpi~cxx~fortran")
    depends_on("gsl")
    depends_on("openblas")
    depends_on("inih")
    depends_on("libpng")
    depends_on("zlib-api")
    depends_on("cmocka", type="test")

    with when("+cuda"):
        depends_on("cudnn")
        depends_on("nccl+cuda")
        conflicts("cuda_arch=none", msg="give a CUDA architecture, e.g. cuda_arch=80")

    def _make_args(self):
        spec = self.spec
        args = [
            "CC={0}".format(spec["mpi"].mpicc),
            "PREFIX={0}".format(self.prefix),
            "ARCH=",  # portable binaries: no -march=native
        ]
        if "+cuda" in spec:
            args += [
                "CUDA=1",
                "NVCC={0}".format(join_path(spec["cuda"].prefix.bin, "nvcc")),
                "CUDA_HOME={0}".format(spec["cuda"].prefix),
            ]
        else:
            args.append("CUDA=0")
        return args

    def setup_build_environment(self, env):
        # the Makefile finds libraries with pkg-config first
        for dep in ("hdf5", "gsl", "openblas", "inih", "libpng"):
            env.prepend_path("PKG_CONFIG_PATH", join_path(self.spec[dep].prefix.lib, "pkgconfig"))
        if "+cuda" in self.spec:
            env.append_flags("LDFLAGS", "-L{0}".format(self.spec["cudnn"].prefix.lib))
            env.append_flags("LDFLAGS", "-L{0}".format(self.spec["nccl"].prefix.lib))

    def build(self, spec, prefix):
        make("all", *self._make_args())

    def check(self):
        make("tests", *self._make_args())

    def install(self, spec, prefix):
        make("install", *self._make_args())

    def setup_run_environment(self, env):
        env.set("A4NN_ROOT", self.prefix)
        env.set("A4NN_JOBS", join_path(self.prefix, "share", "a4nn", "jobs"))
        env.set("A4NN_JOBS_DIR", join_path(self.prefix, "share", "a4nn", "jobs"))
        env.set("A4NN_CONFIG_DIR", join_path(self.prefix, "share", "a4nn", "configs"))
