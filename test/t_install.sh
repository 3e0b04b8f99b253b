#!/usr/bin/env bash
# `make install PREFIX=...` into a temporary prefix (and a DESTDIR-staged
# one): the binaries and tools run, the configs, job scripts, site files and
# both modulefiles are there with @PREFIX@ filled in; the Tcl modulefile is
# evaluated by tclsh (module commands stubbed) and sets the installed paths,
# the Lua one is checked with luac -p when Lua is installed; the installed job
# library finds its own directory. Also: the Spack recipe, with spack's API
# stubbed, passes cuda_arch, CUDA_HOME and the HDF5 directories to make.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
BUILD_DIR=${A4NN_BUILD:-$PWD/build}
fail() { echo "FAIL: $*"; exit 1; }
[[ -x $BUILD_DIR/a4nn ]] || fail "$BUILD_DIR/a4nn not built"
tmp=$(mktemp -d /tmp/a4nn-t-install.XXXXXX); trap 'rm -rf "$tmp"' EXIT
version=$(sed -n 's/^#define A4NN_VERSION "\(.*\)"/\1/p' include/a4nn/util.h)
[[ -n $version ]] || fail "no A4NN_VERSION in include/a4nn/util.h"

prefix=$tmp/prefix
make --no-print-directory install BUILD="$BUILD_DIR" PREFIX="$prefix" A4NN_PREREQS="openmpi hdf5" >"$tmp/make.log" 2>&1 ||
  { tail -n 20 "$tmp/make.log"; fail "make install PREFIX=$prefix"; }

# binaries: a4nn and one a4nn-<tool> per tools/<tool>/main.c
"$prefix/bin/a4nn" run --help >/dev/null 2>&1 || fail "installed a4nn does not run"
for t in tools/*/main.c; do
  t=$(basename "$(dirname "$t")")
  [[ -x $prefix/bin/a4nn-$t ]] || fail "bin/a4nn-$t not installed"
  "$prefix/bin/a4nn-$t" --help >/dev/null 2>&1 || fail "installed a4nn-$t --help fails"
done
echo "ok: bin/a4nn and $(ls tools | wc -l) tools installed and run"

# configs, jobs (scripts and site files), site environment scripts: as in the tree
share=$prefix/share/a4nn
diff -r configs "$share/configs" >/dev/null || fail "share/a4nn/configs differs from configs/"
diff -r jobs "$share/jobs" >/dev/null || fail "share/a4nn/jobs differs from jobs/"
diff -r modules/sites "$share/modules/sites" >/dev/null || fail "share/a4nn/modules/sites differs from modules/sites/"
for f in a4nn.sbatch beam-intensities.sbatch scaling-study.sh submit.sh a4nn-job.sh a4nn-rank.sh summit.lsf sites/generic.sh sites/darwin.sh; do
  [[ -f $share/jobs/$f ]] || fail "share/a4nn/jobs/$f not installed"
done
[[ -x $share/jobs/submit.sh && -x $share/jobs/scaling-study.sh ]] || fail "job scripts lost their execute bit"
# the installed job library finds its own directory through A4NN_ROOT
got=$(cd "$tmp" && A4NN_ROOT=$prefix bash -c 'source "$0"; a4nn_job_dir' "$share/jobs/a4nn-job.sh") ||
  fail "installed a4nn-job.sh: a4nn_job_dir failed"
[[ $got == "$share/jobs" ]] || fail "installed a4nn-job.sh finds '$got', not $share/jobs"
echo "ok: configs, jobs, site files installed"

# the installed copy runs from a new directory, as the module help shows:
# a4nn data makes the demo data there, the installed configs find it and the
# installed reference curves (replay.ini) without the checkout
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
mkdir "$tmp/fresh"
(cd "$tmp/fresh" && A4NN_ROOT=$prefix "$prefix/bin/a4nn" data --default --fluence 1e16 >"$tmp/data.log" 2>&1) ||
  { tail -n 5 "$tmp/data.log"; fail "installed a4nn data --default"; }
[[ -s $tmp/fresh/data/default/xfel-1e16.h5 ]] || fail "a4nn data made no data/default/xfel-1e16.h5"
(cd "$tmp/fresh" && A4NN_ROOT=$prefix mpirun --oversubscribe -np 3 "$prefix/bin/a4nn" run \
  "$prefix/share/a4nn/configs/default.ini" --search.pop_size=2 --search.n_offspring=1 \
  --search.n_gens=1 --train.epochs=1 --data.train_count=64 --data.val_count=32 \
  --search.init_channels=4 --train.batch=32 --quiet >"$tmp/run.log" 2>&1) ||
  { tail -n 5 "$tmp/run.log"; fail "installed default.ini does not run from a new directory"; }
[[ $(tail -n +2 "$tmp/fresh/runs/default/results.csv" | wc -l) -eq 3 ]] || fail "default run: not 3 models"
(cd "$tmp/fresh" && mpirun --oversubscribe -np 3 "$prefix/bin/a4nn" run \
  "$prefix/share/a4nn/configs/replay.ini" --search.pop_size=3 --search.n_offspring=1 \
  --search.n_gens=1 --worker.replay_epoch_seconds=0 --quiet >"$tmp/replay.log" 2>&1) ||
  { tail -n 5 "$tmp/replay.log"; fail "installed replay.ini does not find the installed curves"; }
"$prefix/bin/a4nn" --version | grep -q "CUDA backend" || fail "a4nn --version names no build features"
echo "ok: the installed copy makes its data and runs default.ini and replay.ini from a new directory"

# modulefiles: the prefix filled in
check_modulefiles() { # modulefile dir, prefix the files must name
  local mdir=$1 want=$2 f
  for f in "$mdir/$version.lua" "$mdir/$version"; do
    [[ -f $f ]] || fail "modulefile $f not installed"
    grep -q '@PREFIX@' "$f" && fail "$f still says @PREFIX@"
    grep -qF "\"$want\"" "$f" || fail "$f does not name the prefix $want"
  done
}
mdir=$prefix/share/modulefiles/a4nn
check_modulefiles "$mdir" "$prefix"

# the Tcl modulefile in tclsh, with the module commands recording what they do
cat >"$tmp/eval.tcl" <<'TCL'
set env(A4NN_PREREQS) "ignored-at-load-time"
array set set_env {}
set paths {}
set loads {}
proc setenv {k v} { global set_env; set set_env($k) $v }
proc prepend-path {k v} { global paths; lappend paths "$k=$v" }
proc module-whatis {args} {}
proc conflict {args} {}
proc is-loaded {m} { return 0 }
proc module {cmd args} {
    global loads avail
    if {$cmd eq "load"} {
        if {[lsearch $avail [lindex $args 0]] < 0} { error "no module [lindex $args 0]" }
        lappend loads {*}$args
    }
}
set avail [lrange $argv 1 end]
set f [lindex $argv 0]
set fh [open $f]; set text [read $fh]; close $fh
if {![info complete $text]} { puts "incomplete Tcl in $f"; exit 1 }
if {[string first "#%Module" $text] != 0} { puts "$f does not start with #%Module"; exit 1 }
source $f
puts "A4NN_ROOT=$set_env(A4NN_ROOT)"
puts "A4NN_JOBS=$set_env(A4NN_JOBS)"
puts "A4NN_CONFIG_DIR=$set_env(A4NN_CONFIG_DIR)"
puts "paths=$paths"
puts "loads=$loads"
TCL
out=$(tclsh "$tmp/eval.tcl" "$mdir/$version" openmpi hdf5 2>&1) || fail "tclsh $mdir/$version: $out"
for want in "A4NN_ROOT=$prefix" "A4NN_JOBS=$share/jobs" "A4NN_CONFIG_DIR=$share/configs" \
            "paths=PATH=$prefix/bin" "loads=openmpi hdf5"; do
  grep -qxF "$want" <<<"$out" || fail "Tcl modulefile: expected '$want', got: $out"
done
out=$(tclsh "$tmp/eval.tcl" "$mdir/$version" openmpi 2>&1) && fail "Tcl modulefile loaded without hdf5: $out"
grep -q "a4nn: this site has no module 'hdf5'" <<<"$out" || fail "Tcl modulefile: unclear message for a missing module: $out"
grep -q "@PREREQS@" "$mdir/$version.lua" && fail "Lua modulefile still says @PREREQS@"
grep -qF 'local prereqs = "openmpi hdf5"' "$mdir/$version.lua" || fail "Lua modulefile: prerequisites not fixed at install"
echo "ok: Tcl modulefile evaluates in tclsh: sets the installed paths, loads the prerequisites fixed at install, names a missing one"
luac=$(command -v luac luac5.4 luac5.3 luac5.2 luac5.1 2>/dev/null | head -n 1)
if [[ -n $luac ]]; then
  "$luac" -p "$mdir/$version.lua" || fail "luac -p $mdir/$version.lua"
  echo "ok: Lua modulefile parses ($luac -p)"
else
  echo "SKIPPED (this part only): Lua is not installed, $version.lua not parsed (apt-get install lua5.4)"
fi

# DESTDIR: staged under DESTDIR, naming the final prefix
make --no-print-directory install BUILD="$BUILD_DIR" PREFIX=/opt/a4nn DESTDIR="$tmp/stage" >"$tmp/make2.log" 2>&1 ||
  { tail -n 20 "$tmp/make2.log"; fail "make install DESTDIR=..."; }
[[ -x $tmp/stage/opt/a4nn/bin/a4nn ]] || fail "DESTDIR install: no bin/a4nn under $tmp/stage/opt/a4nn"
check_modulefiles "$tmp/stage/opt/a4nn/share/modulefiles/a4nn" /opt/a4nn
echo "ok: DESTDIR install stages the tree, modulefiles name the final prefix"

# the Spack recipe's make arguments, spack's API stubbed
mkdir -p "$tmp/stub/spack"
: >"$tmp/stub/spack/__init__.py"
cat >"$tmp/stub/spack/package.py" <<'PY'
import contextlib, os
class MakefilePackage: pass
class CudaPackage: pass
def _directive(*a, **k): pass
version = depends_on = conflicts = variant = license = _directive
@contextlib.contextmanager
def when(spec):
    yield
join_path = os.path.join
PY
/usr/bin/python3 - "$root/packaging/spack/packages/a4nn/package.py" "$tmp/stub" <<'PY' || fail "Spack recipe"
import importlib.util, os, sys, tempfile
sys.path.insert(0, sys.argv[2])
sys.dont_write_bytecode = True
spec_ = importlib.util.spec_from_file_location("a4nn_recipe", sys.argv[1])
mod = importlib.util.module_from_spec(spec_)
spec_.loader.exec_module(mod)
base = tempfile.mkdtemp()

class Prefix(str):
    def __getattr__(self, name):
        return os.path.join(self, name)

class Dep:
    def __init__(self, name):
        self.prefix = Prefix(os.path.join(base, name))
        os.makedirs(os.path.join(self.prefix, "lib"), exist_ok=True)
        self.mpicc = os.path.join(self.prefix, "bin", "mpicc")

class Variant:
    def __init__(self, v): self.value = v

class Spec:
    def __init__(self, cuda, arch):
        self.cuda, self.variants, self.deps = cuda, {"cuda_arch": Variant(arch)}, {}
    def __getitem__(self, name):
        return self.deps.setdefault(name, Dep(name))
    def satisfies(self, s):
        assert s == "+cuda", s
        return self.cuda

def args(cuda, arch=("none",)):
    p = object.__new__(mod.A4nn)
    p.spec, p.prefix = Spec(cuda, arch), "/opt/a4nn"
    return {a.split("=", 1)[0]: a.split("=", 1)[1] for a in p._make_args()}

a = args(True, ("70", "80"))
assert a["CUDA"] == "1" and a["CUDA_ARCH"] == "70 80", a
assert a["CUDA_HOME"] == os.path.join(base, "cuda"), a
assert a["NVCC"] == os.path.join(base, "cuda", "bin", "nvcc"), a
assert a["HDF5_LIBDIR"] == os.path.join(base, "hdf5", "lib"), a
assert "-I" + os.path.join(base, "hdf5", "include") in a["PKG_CFLAGS"].split(), a
assert "-L" + os.path.join(base, "cudnn", "lib") in a["EXTRA_LDFLAGS"].split(), a
assert "-I" + os.path.join(base, "nccl", "include") in a["EXTRA_CFLAGS"].split(), a
assert a["CC"] == os.path.join(base, "mpi", "bin", "mpicc") and a["PREFIX"] == "/opt/a4nn", a
c = args(False)
assert c["CUDA"] == "0" and "CUDA_ARCH" not in c and "cudnn" not in c["EXTRA_LDFLAGS"], c
print("ok: Spack recipe: CUDA_ARCH='70 80', CUDA_HOME, HDF5 and library directories passed to make")
PY
# the recipe builds portable binaries (ARCH= , no -march): the CPU backend's
# vector kernels must compile without AVX too (-Werror)
make --no-print-directory BUILD="$tmp/portable" ARCH= CUDA=0 \
  "$tmp/portable/obj/nn/backend_cpu.o" "$tmp/portable/obj/nn/winograd.o" >"$tmp/portable.log" 2>&1 ||
  { grep -m 5 "error" "$tmp/portable.log"; fail "the CPU kernels do not compile with ARCH= (portable build)"; }
echo "ok: the CPU backend's kernels compile with ARCH= (no -march)"
echo PASS
