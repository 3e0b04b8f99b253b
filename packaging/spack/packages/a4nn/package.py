# Spack package recipe for a4nn.
#   spack repo add packaging/spack   (a repo.yaml with `namespace: a4nn` sits beside it)
#   spack install a4nn                          CPU build
#   spack install a4nn +cuda cuda_arch=70       CUDA backend for V100 (80: A100, 90: H100)
#   cd <checkout> && spack dev-build a4nn@main  build this source tree
# `git` below names the upstream repository; point it at your mirror if needed.
import os

from spack.package import *


class A4nn(MakefilePackage, CudaPackage):
    """MPI-distributed neural architecture search with learning-curve
    prediction (PENGUIN) for XFEL diffraction data: NSGA-II over the NSGA-Net
    macro space, workers training on CPU or one GPU each, analytics ranks
    predicting final accuracy and stopping training early."""

    homepage = "https://github.com/TauferLab/A4NN"
    git = "https://github.com/TauferLab/A4NN.git"

    license("Apache-2.0")

    # main follows the branch (development builds); a release names a fixed
    # tag, never a moving branch. v0.1.0 is the tag the 0.1.0 release is to
    # carry: add `commit=` once it is pushed.
    version("main", branch="main")
    version("0.1.0", tag="v0.1.0")

    depends_on("c", type="build")
    depends_on("cxx", type="build", when="+cuda")  # nvcc's host compiler
    depends_on("gmake", type="build")
    # the Makefile asks pkg-config (ompi-c.pc) for MPI's headers for nvcc
    depends_on("pkgconfig", type="build", when="+cuda")
    # Open MPI rather than any MPI: the job scripts launch with `mpirun
    # --oversubscribe`, the Makefile finds MPI's headers for nvcc through
    # ompi-c.pc, and the tests set OMPI_* variables. Spectrum MPI (Summit) is
    # Open MPI underneath: declare it as an external `openmpi`.
    depends_on("openmpi")
    depends_on("hdf5+mpi~cxx~fortran")  # parallel HDF5, built with the same MPI
    depends_on("gsl")
    depends_on("openblas")
    depends_on("inih")
    depends_on("libpng")
    depends_on("zlib-api")
    depends_on("cmocka", type="test")

    # +cuda (from CudaPackage) adds the cuda dependency, which carries cuBLAS
    with when("+cuda"):
        depends_on("cudnn")
        depends_on("nccl+cuda")
        conflicts("cuda_arch=none", msg="give the GPUs' compute capability, e.g. cuda_arch=70")

    def _lib_flags(self, *deps):
        """-L and -rpath for every library directory of the given dependencies."""
        flags = []
        for dep in deps:
            for d in (self.spec[dep].prefix.lib, self.spec[dep].prefix.lib64):
                if os.path.isdir(d):
                    flags += ["-L{0}".format(d), "-Wl,-rpath,{0}".format(d)]
        return flags

    def _make_args(self):
        spec = self.spec
        # every include and library directory explicitly, so that nothing is
        # taken from pkg-config or the Debian layout the Makefile falls back to
        incs = [spec[d].prefix.include for d in ("hdf5", "gsl", "openblas", "inih", "libpng")]
        extra_ld = self._lib_flags("gsl", "inih", "libpng", "zlib-api")
        args = [
            "CC={0}".format(spec["mpi"].mpicc),
            "PREFIX={0}".format(self.prefix),
            "ARCH=",  # portable binaries: no -march=native
            "HDF5_PKG=hdf5",
            "PKG_CFLAGS={0}".format(" ".join("-I{0}".format(i) for i in incs)),
            "HDF5_LIBDIR={0}".format(spec["hdf5"].prefix.lib),
            "BLAS_LIBDIR={0}".format(spec["openblas"].prefix.lib),
            # the Makefile would take the host's /usr/include/dnnl.h: the CPU
            # backend's own kernels only (oneDNN is Debian's libdnnl-dev)
            "ONEDNN=0",
        ]
        if spec.satisfies("+cuda"):
            cuda = spec["cuda"].prefix
            extra_ld += self._lib_flags("cudnn", "nccl")
            args += [
                "CUDA=1",
                "CUDA_HOME={0}".format(cuda),
                "NVCC={0}".format(join_path(cuda.bin, "nvcc")),
                # the Makefile takes compute capabilities, space separated
                "CUDA_ARCH={0}".format(" ".join(spec.variants["cuda_arch"].value)),
                "EXTRA_CFLAGS=-I{0} -I{1}".format(spec["cudnn"].prefix.include,
                                                  spec["nccl"].prefix.include),
            ]
        else:
            args.append("CUDA=0")
        args.append("EXTRA_LDFLAGS={0}".format(" ".join(extra_ld)))
        return args

    def setup_build_environment(self, env):
        if self.spec.satisfies("+cuda"):
            # nvcc preprocesses with the host compiler, which reads CPATH: the
            # .cu sources find cudnn.h and nccl.h outside CUDA_HOME this way
            env.prepend_path("CPATH", self.spec["nccl"].prefix.include)
            env.prepend_path("CPATH", self.spec["cudnn"].prefix.include)

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
