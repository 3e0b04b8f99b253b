# a4nn: MPI-distributed neural architecture search with learning-curve prediction.
#
#   make                 CPU build (CUDA backend added automatically when nvcc is found)
#   make CUDA=0|1        force the CUDA backend off / on
#   make ONEDNN=0|1      force oneDNN's convolutions (CPU backend) off / on
#   make test            build and run every test (ends with "N passed, N failed")
#   make bench           build and run the benchmarks
#   make demo            set up, generate the default data and run the default search
#   make install PREFIX=/opt/a4nn
#   make SANITIZE=1 tests  ASan + UBSan build in build-san (CPU only)
#
# Every target that runs something first calls scripts/setup-debian.sh, which
# installs missing Debian packages when run as root and otherwise lists them.

PREFIX ?= /usr/local
# make SANITIZE=1: AddressSanitizer + UndefinedBehaviorSanitizer build, CPU
# only, in its own build directory (test/t_sanitize.sh runs its tests)
ifeq ($(SANITIZE),1)
  BUILD ?= build-san
  CUDA  := 0
  OPT   := -O1
  # -O1 changes GCC's flow analysis: its truncation and uninitialised-use
  # guesses differ from the checked -O3 build's, so they are not errors here
  SAN    = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
           -Wno-format-truncation -Wno-stringop-truncation -Wno-stringop-overflow -Wno-maybe-uninitialized
endif
BUILD  ?= build
CC      = mpicc
NVCC   ?= $(shell command -v nvcc 2>/dev/null || (test -x /usr/local/cuda/bin/nvcc && echo /usr/local/cuda/bin/nvcc))
# the toolkit nvcc belongs to (cuDNN and NCCL are looked for there too)
CUDA_HOME ?= $(if $(NVCC),$(patsubst %/bin/,%,$(dir $(realpath $(NVCC)))),/usr/local/cuda)
# compute capabilities to build for (70: V100, needs CUDA 12 or older; 80:
# A100; 90: H100), plus PTX of the newest for the GPUs after it
CUDA_ARCH ?= 80 90
ARCH   ?= -march=native
OPT    ?= -O3

# Library paths: pkg-config when it knows them, Debian's layout otherwise.
# Elsewhere (Spack, modules) set HDF5_PKG, or PKG_CFLAGS / HDF5_LIBDIR /
# BLAS_LIBDIR, and EXTRA_CFLAGS / EXTRA_LDFLAGS.
HDF5_PKG ?= hdf5-openmpi
PKGS      = $(HDF5_PKG) gsl openblas inih libpng
ifeq ($(origin PKG_CFLAGS),undefined)
  PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null || echo -I/usr/include/hdf5/openmpi -I/usr/include/x86_64-linux-gnu/openblas-pthread)
endif
ifeq ($(origin HDF5_LIBDIR),undefined)
  HDF5_LIBDIR := $(or $(firstword $(patsubst -L%,%,$(filter -L%hdf5%,$(shell pkg-config --libs-only-L $(HDF5_PKG) 2>/dev/null)))),/usr/lib/x86_64-linux-gnu/hdf5/openmpi)
endif
ifeq ($(origin BLAS_LIBDIR),undefined)
  BLAS_LIBDIR := $(or $(firstword $(patsubst -L%,%,$(filter -L%,$(shell pkg-config --libs-only-L openblas 2>/dev/null)))),/usr/lib/x86_64-linux-gnu/openblas-pthread)
endif

WARN    = -Wall -Wextra -Werror -Wno-unused-parameter
# -MMD -MP: every object gets a .d file naming the headers it includes (private
# ones too), so a header change rebuilds exactly what uses it
DEPFLAGS = -MMD -MP
CFLAGS  = -std=c11 $(OPT) $(ARCH) -g -fopenmp -D_GNU_SOURCE $(WARN) $(SAN) $(DEPFLAGS) -Iinclude $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS = $(SAN) -fopenmp -L$(HDF5_LIBDIR) -Wl,-rpath,$(HDF5_LIBDIR) -L$(BLAS_LIBDIR) -Wl,-rpath,$(BLAS_LIBDIR) $(EXTRA_LDFLAGS)
LDLIBS  = -lhdf5 -lgsl -lopenblas -linih -lpng16 -lz -ldl -lm -lpthread

# ---- CUDA backend: on when nvcc, cuDNN and NCCL are found, unless CUDA=0 -----
CUDA_LIBS_FOUND := $(and $(wildcard $(CUDA_HOME)/include/cudnn.h),$(wildcard $(CUDA_HOME)/include/nccl.h))
ifeq ($(CUDA),)
  CUDA := $(if $(and $(NVCC),$(CUDA_LIBS_FOUND)),1,0)
  CUDA_WHY := $(if $(NVCC),$(if $(CUDA_LIBS_FOUND),,(nvcc found, but no cudnn.h and nccl.h in $(CUDA_HOME)/include)),(nvcc not found))
else
  CUDA_WHY := (CUDA=$(CUDA))
endif
CU_SRC := $(wildcard src/*/*.cu)
ifeq ($(CUDA)$(if $(CU_SRC),,none),1)
  CUDA_STATUS = on (nvcc $(NVCC), cuDNN, cuBLAS, NCCL from $(CUDA_HOME); sm $(CUDA_ARCH))
  CFLAGS  += -DA4NN_CUDA=1 -I$(CUDA_HOME)/include
  LDFLAGS += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64
  LDLIBS  += -lcudnn -lcublas -lnccl -lcudart -lstdc++
  NVFLAGS  = -O3 -std=c++17 -Iinclude -I$(CUDA_HOME)/include $(shell pkg-config --cflags-only-I ompi-c 2>/dev/null) \
             $(foreach a,$(CUDA_ARCH),-gencode arch=compute_$(a),code=sm_$(a)) \
             -gencode arch=compute_$(lastword $(CUDA_ARCH)),code=compute_$(lastword $(CUDA_ARCH)) \
             -Xcompiler -Wall,-Wextra,-Wno-unused-parameter -Werror all-warnings
  CU_OBJ   = $(patsubst src/%.cu,$(BUILD)/obj/%.cu.o,$(CU_SRC))
else
  CUDA_STATUS = off $(if $(CU_SRC),$(CUDA_WHY),(no CUDA sources))
  CU_OBJ   =
endif

# ---- sources: every module directory under src/ goes into liba4nn.a ----------
LIB_SRC  := $(filter-out src/app/%,$(wildcard src/*/*.c))
LIB_OBJ  := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRC))
APP_SRC  := $(wildcard src/app/*.c)
APP_OBJ  := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(APP_SRC))
TOOL_DIRS:= $(patsubst tools/%/,%,$(dir $(wildcard tools/*/main.c)))
TOOLS    := $(foreach t,$(TOOL_DIRS),$(BUILD)/a4nn-$(t))
TEST_SRC := $(wildcard test/test_*.c)
TESTS    := $(patsubst test/%.c,$(BUILD)/test/%,$(TEST_SRC))
BENCH_SRC:= $(wildcard bench/bench_*.c)
# ---- oneDNN (Debian libdnnl-dev): the CPU backend's 3x3 convolutions on the
# shapes where it measures faster, and bench_onednn; on when dnnl.h is found,
# unless ONEDNN=0 -------------------------------------------------------------
ifeq ($(ONEDNN),)
  ONEDNN := $(if $(wildcard /usr/include/dnnl.h),1,0)
  ONEDNN_WHY := (no /usr/include/dnnl.h; apt-get install libdnnl-dev)
else
  ONEDNN_WHY := (ONEDNN=$(ONEDNN))
endif
ifeq ($(ONEDNN),1)
  DNNL_STATUS = on (libdnnl)
  CFLAGS  += -DA4NN_ONEDNN=1
  LDLIBS  += -ldnnl
else
  DNNL_STATUS = off $(ONEDNN_WHY)
  BENCH_SRC := $(filter-out bench/bench_onednn.c,$(BENCH_SRC))
endif
BENCHES  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
LIB      := $(BUILD)/liba4nn.a
BIN      := $(BUILD)/a4nn

.PHONY: all setup test bench demo install clean status tests benches
.DEFAULT_GOAL := all

all: status $(BIN) $(TOOLS)

status:
	@echo "a4nn build: CPU backend on (OpenBLAS, OpenMP); CUDA backend $(CUDA_STATUS); oneDNN convolutions $(DNNL_STATUS)"

setup:
	@scripts/setup-debian.sh

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.cu.o: src/%.cu
	@mkdir -p $(dir $@)
	$(NVCC) $(NVFLAGS) -MMD -MP -c $< -o $@

# the simulator's structure-factor loop: vectorised sincosf needs -ffast-math
$(BUILD)/obj/xfel/xfel_kernel.o: CFLAGS += -ffast-math
# the CPU backend's direct and Winograd convolutions: multiply-adds become
# FMAs (C11 mode otherwise keeps them separate)
$(BUILD)/obj/nn/backend_cpu.o $(BUILD)/obj/nn/winograd.o: CFLAGS += -ffp-contract=fast

$(LIB): $(LIB_OBJ) $(CU_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN): $(APP_OBJ) $(LIB)
	$(CC) $(LDFLAGS) $(APP_OBJ) $(LIB) $(LDLIBS) -o $@

$(BUILD)/a4nn-%: tools/%/*.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $(filter %.c,$^) $(LIB) $(LDLIBS) -o $@

$(BUILD)/test/%: test/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itest $(LDFLAGS) $< $(LIB) $(LDLIBS) -lcmocka -o $@

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

tests: all $(TESTS)
benches: all $(BENCHES)

# The targets a user runs: set up the machine first, then build in a sub-make
# (so library flags are read after the packages are installed).
test:
	@scripts/setup-debian.sh test
	@$(MAKE) --no-print-directory tests
	@BUILD=$(BUILD) test/run.sh

bench:
	@scripts/setup-debian.sh test
	@$(MAKE) --no-print-directory benches
	@BUILD=$(BUILD) bench/run.sh

demo: setup
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) scripts/demo.sh

install: A4NN_VERSION = $(shell sed -n 's/^\#define A4NN_VERSION "\(.*\)"/\1/p' include/a4nn/util.h)
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/a4nn/configs $(DESTDIR)$(PREFIX)/share/a4nn/jobs \
	  $(DESTDIR)$(PREFIX)/share/a4nn/modules $(DESTDIR)$(PREFIX)/share/modulefiles/a4nn
	install -m 755 $(BIN) $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	cp -r configs/. $(DESTDIR)$(PREFIX)/share/a4nn/configs/
	install -d $(DESTDIR)$(PREFIX)/share/a4nn/test/reference/data/curves
	install -m 644 test/reference/data/curves/*.csv $(DESTDIR)$(PREFIX)/share/a4nn/test/reference/data/curves/
	cp -r jobs/. $(DESTDIR)$(PREFIX)/share/a4nn/jobs/
	cp -r modules/sites $(DESTDIR)$(PREFIX)/share/a4nn/modules/
	sed -e 's|@PREFIX@|$(abspath $(PREFIX))|g' -e 's|@PREREQS@|$(A4NN_PREREQS)|g' modules/a4nn/$(A4NN_VERSION).lua >$(DESTDIR)$(PREFIX)/share/modulefiles/a4nn/$(A4NN_VERSION).lua
	sed -e 's|@PREFIX@|$(abspath $(PREFIX))|g' -e 's|@PREREQS@|$(A4NN_PREREQS)|g' modules/a4nn/$(A4NN_VERSION).tcl >$(DESTDIR)$(PREFIX)/share/modulefiles/a4nn/$(A4NN_VERSION)
	@echo "installed a4nn in $(PREFIX): module use $(abspath $(PREFIX))/share/modulefiles; module load a4nn"
	@echo "the modulefiles load: $(if $(strip $(A4NN_PREREQS)),$(A4NN_PREREQS),no other modules (A4NN_PREREQS was empty; source modules/sites/<site>.sh first))"

clean:
	rm -rf $(BUILD)

# the header dependencies the compiler wrote (absent before the first build)
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
