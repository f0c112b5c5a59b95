# ssm.h — build, test, install. The library itself is the header; this file builds the test
# and benchmark programs around it. Everything built lands in build/ (build/sanitize for the
# sanitizer build).
#
#   make test            every test leg this machine can run; SKIPPED: lines for the others;
#                        ends with one "N passed, M failed, K skipped" line over all legs
#   make sanitize        the same suite built with ASan + UBSan (= make test SANITIZE=1)
#   make golden          the conformance runner on GOLDEN="DIR ..." (default tests/golden)
#   make golden-refresh  copy ../shared/golden (cases and FORMAT.md) into tests/golden
#   make install         headers and ssm.pc under PREFIX (default /usr/local); DESTDIR honoured
#   make bench           the benchmark suite
#   make clean           remove build/

# Make's own defaults for CC (cc) and CXX (g++) apply; override on the command line.
PREFIX  ?= /usr/local
GOLDEN  ?= tests/golden

# Warnings are errors everywhere; the harness is plain C11 (POSIX for directory listing).
WARN    := -Wall -Wextra -Werror
CSTD    := -std=c11
OPT     := -O2 -g

# The headers a user installs, and the CPU headers the compile leg builds (ssm.h first).
HEADERS_ALL     := $(strip ssm.h $(wildcard ssm_avx512.h ssm_neon.h ssm_cuda.cuh ssm_hip.h))
HEADERS_COMPILE := $(strip ssm.h $(wildcard ssm_avx512.h ssm_neon.h))
VERSION := $(shell sed -n 's/^\#define SSM_VERSION_STRING "\(.*\)"/\1/p' ssm.h)

# OpenMP when the compiler has it: the kernels then run threaded, as users will run them.
OPENMP := $(shell echo 'int main(void){return 0;}' | $(CC) -fopenmp -x c - -o /dev/null 2>/dev/null && echo -fopenmp)

ifeq ($(SANITIZE),1)
BUILD    := build/sanitize
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT      := -O1 -g
else
BUILD    := build
SANFLAGS :=
endif

NOT_SANITIZED := not a sanitizer leg; make test runs it

CFLAGS_ALL  := $(CSTD) $(WARN) $(OPT) $(OPENMP) $(SANFLAGS) -I. $(CFLAGS)
LDLIBS_ALL  := $(OPENMP) $(SANFLAGS) $(LDFLAGS) -lm
# Each make keeps its leg logs and scratch files in its own directory (others may be testing
# the same tree at the same time); the logs end up in $(BUILD)/logs.
LOGS        := $(BUILD)/logs.$(shell echo $$PPID)
SCRATCH     := $(LOGS)/scratch

# ---------------------------------------------------------------- objects and programs

# Shared by every test and benchmark program: the implementation, the float64 reference,
# the SPEC §7 checker and the golden loader.
HARNESS := $(BUILD)/ssm_impl.o $(BUILD)/ssm_ref.o $(BUILD)/check.o $(BUILD)/golden.o

define compile
@mkdir -p $(@D)
$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@
endef

$(BUILD)/%.o: tests/%.c $(BUILD)/flags
	$(compile)
$(BUILD)/ssm_ref.o: reference/ssm_ref.c $(BUILD)/flags
	$(compile)
# ssm.h's implementation pulls in the ISA headers beside it; one that appears after an earlier
# build is not in that build's dependency file yet.
$(BUILD)/ssm_impl.o: $(HEADERS_COMPILE)

# The compile command, rewritten only when it changes: objects depend on it, so building with
# other CFLAGS (or another CC) rebuilds them.
$(BUILD)/flags: FORCE
	@mkdir -p $(@D)
	@echo '$(CC) $(CFLAGS_ALL)' | cmp -s - $@ || echo '$(CC) $(CFLAGS_ALL)' > $@
FORCE:

# Every tests/test_NAME.c is a program linked with the harness.
$(BUILD)/test_%: $(BUILD)/test_%.o $(HARNESS)
	$(CC) $^ $(LDLIBS_ALL) -o $@

-include $(wildcard $(BUILD)/*.d)

# ---------------------------------------------------------------- test legs

# $(call leg,NAME,COMMAND): runs one leg, shows its output and keeps it, with the exit status,
# in $(LOGS) for tests/summarize.sh. Every leg prints "N passed, M failed, K skipped" last.
define leg
@echo "== $(1)"; { $(2); echo $$? > $(LOGS)/$(1).status; } 2>&1 | tee $(LOGS)/$(1).log
endef

# $(call built,PROGRAM): builds PROGRAM, then names it to run. Inside a leg, so that a test
# that does not compile fails its own leg and the others still run.
built = $(MAKE) -s --no-print-directory $(1) && $(1)

# $(call skip,NAME,WHY): a leg this machine cannot run; the summary counts it as skipped.
define skip
@echo "SKIPPED: $(1) ($(2))" | tee $(LOGS)/$(1).log; echo 0 > $(LOGS)/$(1).status
endef

# The AArch64 leg: the golden runner cross-built (with OpenMP) and run under qemu with the
# cross libraries: the scalar backend on another architecture, and NEON once ssm_neon.h exists.
CROSS_CC   := aarch64-linux-gnu-gcc
QEMU       := qemu-aarch64
CROSS_ROOT := /usr/aarch64-linux-gnu
CROSS_SRCS := tests/ssm_impl.c reference/ssm_ref.c tests/check.c tests/golden.c tests/test_golden.c
CROSS_BIN  := $(BUILD)/aarch64/test_golden
CROSS_MISSING := $(if $(SANFLAGS),not run under sanitizers in qemu; make test runs it,$(if $(and $(shell command -v $(CROSS_CC)),$(shell command -v $(QEMU))),,$(CROSS_CC) or $(QEMU) not installed))

$(CROSS_BIN): $(CROSS_SRCS) $(HEADERS_COMPILE) reference/ssm_ref.h tests/check.h tests/golden.h
	@mkdir -p $(@D)
	$(CROSS_CC) $(CSTD) $(WARN) $(OPT) -fopenmp -I. $(CROSS_SRCS) -lm -o $@

# Compilers of the compile leg ("cc:c++[:runner]"); pairs not installed are reported skipped.
COMPILERS := $(CC):$(CXX) $(if $(findstring clang,$(shell $(CC) --version 2>/dev/null | head -n 1)),,clang:clang++) \
             $(CROSS_CC):aarch64-linux-gnu-g++:$(QEMU)

# Legs that run only where their files or tools exist. Under SANITIZE=1 only the programs
# built with the sanitizers run: the compile, install and readme legs build nothing that a
# sanitizer would look at (and ASan makes compiling ssm.h several times slower).
LEG_COMPILE  = $(if $(SANFLAGS),$(call skip,compile,$(NOT_SANITIZED)),$(call leg,compile,COMPILERS="$(COMPILERS)" HEADERS="$(HEADERS_COMPILE)" BUILD="$(SCRATCH)" sh tests/compile/run.sh))
LEG_INSTALL  = $(if $(SANFLAGS),$(call skip,install,$(NOT_SANITIZED)),$(call leg,install,BUILD="$(SCRATCH)" CC="$(CC)" MAKE="$(MAKE)" HEADERS="$(HEADERS_ALL)" sh tests/install_check.sh))
LEG_README   = $(if $(SANFLAGS),$(call skip,readme,$(NOT_SANITIZED)),$(if $(wildcard tests/readme_example.sh),$(call leg,readme,BUILD_DIR="$(SCRATCH)" CC="$(CC)" bash tests/readme_example.sh),$(call skip,readme,tests/readme_example.sh not written yet)))
LEG_PROPS    = $(if $(wildcard tests/test_props.c),$(call leg,props,$(call built,$(BUILD)/test_props)),$(call skip,props,tests/test_props.c not written yet))
LEG_BADINPUT = $(if $(wildcard tests/test_badinput.c),$(call leg,badinput,$(call built,$(BUILD)/test_badinput)),$(call skip,badinput,tests/test_badinput.c not written yet))
LEG_AARCH64  = $(if $(CROSS_MISSING),$(call skip,golden-aarch64,$(CROSS_MISSING)),$(call leg,golden-aarch64,$(MAKE) -s --no-print-directory $(CROSS_BIN) && $(QEMU) -L $(CROSS_ROOT) $(CROSS_BIN) tests/golden))

# The vector math of the ISA backends against libm: every one of the 2^32 f32 inputs in the
# plain build; a strided sample under the sanitizers, where the full sweep would take an hour.
LEG_VMATH    = $(if $(wildcard tests/test_vmath.c),$(call leg,vmath,$(call built,$(BUILD)/test_vmath) $(if $(SANFLAGS),65537,)),$(call skip,vmath,tests/test_vmath.c not written yet))

# A CPU without AVX-512: the golden runner of this build under qemu -cpu Haswell must run, let
# dispatch pick scalar, and pass (the default build is baseline x86-64; AVX-512 code sits
# behind function-level target attributes).
HASWELL_MISSING := $(if $(SANFLAGS),not run under sanitizers in qemu; make test runs it,$(if $(filter x86_64,$(shell uname -m)),$(if $(shell command -v qemu-x86_64),,qemu-x86_64 not installed (apt-get install qemu-user)),not an x86-64 machine))
LEG_HASWELL  = $(if $(HASWELL_MISSING),$(call skip,golden-haswell,$(HASWELL_MISSING)),$(call leg,golden-haswell,$(MAKE) -s --no-print-directory $(BUILD)/test_golden && qemu-x86_64 -cpu Haswell $(BUILD)/test_golden --expect-isa=scalar tests/golden))

# The AMX-BF16 SSD path of ssm_avx512.h with the tile instructions emulated in software
# (SSM__AMX_EMULATE), so every machine with AVX512-BF16 runs that path's layouts and edges
# through the golden and property tests; real tiles run on AMX machines in the plain legs.
AMX_EMU     := $(BUILD)/amx-emulated
AMX_EMU_SRC := tests/ssm_impl.c reference/ssm_ref.c tests/check.c tests/golden.c
$(AMX_EMU)/test_%: tests/test_%.c $(AMX_EMU_SRC) $(HEADERS_COMPILE) reference/ssm_ref.h tests/check.h tests/golden.h tests/props.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -DSSM__AMX_EMULATE $(AMX_EMU_SRC) $< $(LDLIBS_ALL) -o $@
AMX_EMU_MISSING := $(if $(wildcard ssm_avx512.h),$(if $(shell grep -qw avx512_bf16 /proc/cpuinfo 2>/dev/null && echo y),,this CPU lacks AVX512-BF16),ssm_avx512.h not present)
LEG_AMX_GOLDEN = $(if $(AMX_EMU_MISSING),$(call skip,amx-emulated-golden,$(AMX_EMU_MISSING)),$(call leg,amx-emulated-golden,$(call built,$(AMX_EMU)/test_golden) tests/golden))
LEG_AMX_PROPS  = $(if $(AMX_EMU_MISSING),$(call skip,amx-emulated-props,$(AMX_EMU_MISSING)),$(call leg,amx-emulated-props,$(call built,$(AMX_EMU)/test_props)))

# On an AMX machine bf16 ssd and hsa_attention take the tiles in every other leg; this one runs
# the property tests again with SSM_NO_AMX=1 so that their FMA paths are tested there too.
NO_AMX_MISSING := $(if $(wildcard ssm_avx512.h),$(if $(shell grep -qw amx_bf16 /proc/cpuinfo 2>/dev/null && echo y),,this CPU has no AMX-BF16: the props leg runs the FMA paths),ssm_avx512.h not present)
LEG_NO_AMX     = $(if $(NO_AMX_MISSING),$(call skip,props-no-amx,$(NO_AMX_MISSING)),$(call leg,props-no-amx,$(MAKE) -s --no-print-directory $(BUILD)/test_props && SSM_NO_AMX=1 $(BUILD)/test_props))

# The CUDA launchers compile for sm_90 where nvcc exists (no GPU is needed; nothing runs).
LEG_CUDA     = $(if $(SANFLAGS),$(call skip,cuda-compile,$(NOT_SANITIZED)),$(if $(shell command -v $(NVCC)),$(call leg,cuda-compile,$(MAKE) -s --no-print-directory cuda-compile),$(call skip,cuda-compile,nvcc not installed)))

# The CUDA test program on the CPU emulator (tests/cuda_emu.h) wherever the toolkit's headers
# are: the golden cases, the quick property suite and the far cases (operand rows past element
# 2^31) through the kernels' own code. Under SANITIZE=1 AddressSanitizer watches the kernels'
# device and shared memory accesses, as compute-sanitizer memcheck does on a GPU.
CUDA_EMU_MISSING = $(if $(wildcard $(CUDA_INC)/cuda_runtime.h),,no CUDA toolkit headers (cuda_runtime.h; nvcc not installed))
LEG_CUDA_EMU = $(if $(CUDA_EMU_MISSING),$(call skip,cuda-emulated,$(CUDA_EMU_MISSING)),$(call leg,cuda-emulated,$(call built,$(CUDA_EMU)/test_cuda) --props --quick --far tests/golden))
# Racecheck on the CPU: the emulated CUDA tests under ThreadSanitizer, each thread of a block a
# fiber of its own, barriers, __syncwarp, atomics and flags the only order between them; any
# data race it reports fails the leg (exit status 66). The golden cases and the quick property
# cases but the f32/f16 hsa_attention ones (the general kernel's big shapes, by estimate 15
# minutes more under TSan; bf16 runs its small ones): 5.3 minutes measured. A sanitizer leg: make sanitize runs it.
CUDA_RACE_MISSING = $(if $(SANFLAGS),$(CUDA_EMU_MISSING),a sanitizer leg; make sanitize runs it)
CUDA_RACE_CASES   = conv1d,state_update,selective_scan,ssd,hsa_select,hsa_attention bf16
LEG_CUDA_RACE = $(if $(CUDA_RACE_MISSING),$(call skip,cuda-emulated-racecheck,$(CUDA_RACE_MISSING)),$(call leg,cuda-emulated-racecheck,$(call built,$(CUDA_EMU_TSAN)/test_cuda) --props --quick "--only=$(CUDA_RACE_CASES)" tests/golden))

# Make keeps the objects between runs (they are not just intermediates of the programs).
.SECONDARY:

.PHONY: test sanitize golden golden-refresh install bench clean help FORCE

test:
	@rm -rf $(LOGS) && mkdir -p $(SCRATCH)
	$(call leg,check,$(call built,$(BUILD)/test_check) tests/golden $(SCRATCH))
	$(call leg,golden,$(call built,$(BUILD)/test_golden) tests/golden)
	$(LEG_COMPILE)
	$(LEG_INSTALL)
	$(LEG_README)
	$(LEG_PROPS)
	$(LEG_BADINPUT)
	$(LEG_AARCH64)
	$(LEG_HASWELL)
	$(LEG_VMATH)
	$(LEG_AMX_GOLDEN)
	$(LEG_AMX_PROPS)
	$(LEG_NO_AMX)
	$(LEG_CUDA)
	$(LEG_CUDA_EMU)
	$(LEG_CUDA_RACE)
	@sh tests/summarize.sh $(LOGS); status=$$?; \
	  rm -rf $(SCRATCH) $(BUILD)/logs; mv $(LOGS) $(BUILD)/logs; exit $$status

sanitize:
	$(MAKE) test SANITIZE=1

golden: $(BUILD)/test_golden
	$(BUILD)/test_golden $(GOLDEN)

golden-refresh:
	install -d tests/golden
	install -m 644 ../shared/golden/*.ssmg ../shared/golden/FORMAT.md tests/golden/

install:
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(HEADERS_ALL) $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' ssm.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/ssm.pc

# ---- benchmark suite: bench/ (see bench/README.md) ----
# make bench        every canonical CPU shape x backend x dtype, 1 thread and all cores, L and
#                   thread sweeps, ceilings measured in the same run -> results/<machine-slug>/
# make bench-quick  tiny shapes in seconds, then the JSON is checked for every BENCH.md field
.PHONY: bench-quick
bench:
	CC="$(CC)" CXX="$(CXX)" bash bench/run.sh
bench-quick:
	CC="$(CC)" CXX="$(CXX)" bash bench/run.sh --quick
# ---- end of benchmark suite ----

# ---------------------------------------------------------------- CUDA (ssm_cuda.cuh)
#
#   make golden-cuda GOLDEN="DIR ..."   golden cases on the GPU (backend name "cuda")
#   make test-cuda                       golden cases + randomized property tests on the GPU
#   make bench-cuda                      GPU benchmarks (JSON in $(CUDA_BUILD)/bench_cuda.json)
#   make cuda-compile                    sm_90 compile of the launchers and their programs, no
#                                        run (the CI leg; make test runs it when nvcc exists)
# bench/device_gpu.sh builds, tests and benchmarks in one call on the GPU machine.

NVCC       ?= nvcc
CUDA_GEN   ?= -gencode=arch=compute_90a,code=sm_90a -gencode=arch=compute_90,code=sm_90
CUDA_BUILD ?= build/cuda
NVFLAGS     = -std=c++17 -O2 -lineinfo -I. $(CUDA_GEN) -Xcompiler -Wall,-Wextra,-Werror -Werror all-warnings
CUDA_GIT   := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
CUDA_HOST_C = @mkdir -p $(@D); $(CC) $(CSTD) $(WARN) -O2 -I. -c $< -o $@

$(CUDA_BUILD)/ssm_ref.o: reference/ssm_ref.c reference/ssm_ref.h ssm.h
	$(CUDA_HOST_C)
$(CUDA_BUILD)/%.o: tests/%.c tests/check.h tests/golden.h ssm.h
	$(CUDA_HOST_C)
$(CUDA_BUILD)/bench_json.o: bench/bench_json.c bench/bench_json.h
	$(CUDA_HOST_C)
$(CUDA_BUILD)/ssm_impl_cuda.o: tests/ssm_impl_cuda.cu ssm.h ssm_cuda.cuh
	@mkdir -p $(@D)
	$(NVCC) $(NVFLAGS) -t 0 -c $< -o $@
$(CUDA_BUILD)/test_cuda.o: tests/test_cuda.cu tests/cuda_check.h tests/props.h tests/golden.h tests/check.h reference/ssm_ref.h ssm.h ssm_cuda.cuh
	@mkdir -p $(@D)
	$(NVCC) $(NVFLAGS) -c $< -o $@
$(CUDA_BUILD)/bench_cuda.o: bench/bench_cuda.cu tests/cuda_check.h bench/bench_json.h tests/check.h reference/ssm_ref.h ssm.h ssm_cuda.cuh
	@mkdir -p $(@D)
	$(NVCC) $(NVFLAGS) -Xcompiler -fopenmp -DBENCH_HAVE_CUBLAS '-DBENCH_GIT="$(CUDA_GIT)"' '-DBENCH_FLAGS="$(NVFLAGS)"' -c $< -o $@
$(CUDA_BUILD)/test_cuda: $(CUDA_BUILD)/test_cuda.o $(CUDA_BUILD)/ssm_impl_cuda.o $(CUDA_BUILD)/ssm_ref.o $(CUDA_BUILD)/check.o $(CUDA_BUILD)/golden.o
	$(NVCC) $(CUDA_GEN) $^ -lm -o $@
$(CUDA_BUILD)/bench_cuda: $(CUDA_BUILD)/bench_cuda.o $(CUDA_BUILD)/ssm_impl_cuda.o $(CUDA_BUILD)/ssm_ref.o $(CUDA_BUILD)/check.o $(CUDA_BUILD)/bench_json.o
	$(NVCC) $(CUDA_GEN) $^ -lcublas -lgomp -lm -o $@

# The same test program on the CPU: ssm_cuda.cuh and tests/test_cuda.cu compiled as plain C++
# against the toolkit's headers, with tests/cuda_emu.h in place of nvcc's device side (kernels
# run as fibers, block by block; see that header). It tests the kernels' logic where no GPU is.
CUDA_EMU       := $(BUILD)/cuda-emu
CUDA_INC       := $(patsubst %/bin/,%/include,$(dir $(shell command -v $(NVCC) 2>/dev/null)))
# SSM_CUDA_SSD_SHARED_CB=4: the opt-in ssd kernel (off by default, see ssm_cuda.cuh) is tested here.
CUDA_EMU_BASE  := -std=c++17 $(OPT) -fno-strict-aliasing $(WARN) -Wno-unknown-pragmas -I. -isystem $(CUDA_INC) \
                  -include tests/cuda_emu.h -DSSM_CUDA_SSD_SHARED_CB=4
CUDA_EMU_FLAGS := $(CUDA_EMU_BASE) $(SANFLAGS)
$(CUDA_EMU)/%.o: tests/%.cu tests/cuda_emu.h tests/cuda_check.h tests/props.h tests/golden.h tests/check.h reference/ssm_ref.h ssm.h ssm_cuda.cuh
	@mkdir -p $(@D)
	$(CXX) $(CUDA_EMU_FLAGS) -x c++ -c $< -o $@
$(CUDA_EMU)/cuda_emu.o: tests/cuda_emu.cc tests/cuda_emu.h
	@mkdir -p $(@D)
	$(CXX) $(CUDA_EMU_FLAGS) -c $< -o $@
# The plain C helpers are the nvcc build's (compiled by $(CC), so no nvcc is needed for them).
CUDA_HOST_OBJS := $(CUDA_BUILD)/ssm_ref.o $(CUDA_BUILD)/check.o $(CUDA_BUILD)/golden.o
$(CUDA_EMU)/test_cuda: $(CUDA_EMU)/test_cuda.o $(CUDA_EMU)/ssm_impl_cuda.o $(CUDA_EMU)/cuda_emu.o $(CUDA_HOST_OBJS)
	$(CXX) $^ $(SANFLAGS) -lm -o $@

# The same under ThreadSanitizer (the racecheck leg of make sanitize; see tests/cuda_emu.cc):
# the CUDA objects instrumented, the plain C helpers linked as they are.
CUDA_EMU_TSAN := $(BUILD)/cuda-emu-tsan
$(CUDA_EMU_TSAN)/%.o: tests/%.cu tests/cuda_emu.h tests/cuda_check.h tests/props.h tests/golden.h tests/check.h reference/ssm_ref.h ssm.h ssm_cuda.cuh
	@mkdir -p $(@D)
	$(CXX) $(CUDA_EMU_BASE) -fsanitize=thread -x c++ -c $< -o $@
$(CUDA_EMU_TSAN)/cuda_emu.o: tests/cuda_emu.cc tests/cuda_emu.h
	@mkdir -p $(@D)
	$(CXX) $(CUDA_EMU_BASE) -fsanitize=thread -c $< -o $@
$(CUDA_EMU_TSAN)/test_cuda: $(CUDA_EMU_TSAN)/test_cuda.o $(CUDA_EMU_TSAN)/ssm_impl_cuda.o $(CUDA_EMU_TSAN)/cuda_emu.o $(CUDA_HOST_OBJS)
	$(CXX) $^ -fsanitize=thread -lm -o $@

.PHONY: golden-cuda test-cuda bench-cuda cuda-compile
golden-cuda: $(CUDA_BUILD)/test_cuda
	$(CUDA_BUILD)/test_cuda $(GOLDEN)
test-cuda: $(CUDA_BUILD)/test_cuda
	$(CUDA_BUILD)/test_cuda --props $(GOLDEN)
bench-cuda: $(CUDA_BUILD)/bench_cuda
	$(CUDA_BUILD)/bench_cuda --out $(CUDA_BUILD)/bench_cuda.json
# The CI leg: everything CUDA compiles for sm_90 with warnings as errors; nothing runs here.
cuda-compile:
	@$(MAKE) --no-print-directory CUDA_GEN=-arch=sm_90 CUDA_BUILD=build/cuda-sm90 build/cuda-sm90/test_cuda build/cuda-sm90/bench_cuda \
	  && echo "PASS cuda-compile ssm_cuda.cuh, tests/test_cuda.cu, bench/bench_cuda.cu for sm_90" && echo "1 passed, 0 failed, 0 skipped" \
	  || { echo "FAIL cuda-compile (see the compiler output above)"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

clean:
	rm -rf build

help:
	@sed -n '1,/^$$/p' Makefile
